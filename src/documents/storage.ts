import type { Config } from '../env'
import { declaredChecksumHeader, objectUrl, s3Client } from './signer'
import { toHex } from '../platform/digest'

/** What the store says about an object: enough to check it against the upload's terms. */
export interface StoredObject {
  size: number
  contentType: string | undefined
  /** The SHA-256 the signed upload declared in its metadata, if any (not yet checked). */
  declaredSha256: string | undefined
}

/** Object storage as the API uses it: metadata and deletion; bytes only to hash them. */
export interface Storage {
  head(key: string): Promise<StoredObject | null>
  /** Hashes the stored bytes (SHA-256, lowercase hex); null when the object is gone. */
  sha256(key: string): Promise<string | null>
  delete(keys: string[]): Promise<void>
  /** One cheap call that proves the bucket answers. */
  ping(): Promise<void>
}

const metadataName = declaredChecksumHeader.replace('x-amz-meta-', '')

async function digest(body: ReadableStream<Uint8Array>): Promise<string> {
  // DigestStream hashes as the bytes stream past, so a large file is never held in memory.
  const hasher = new crypto.DigestStream('SHA-256')
  await body.pipeTo(hasher)
  return toHex(await hasher.digest)
}

/** The R2 binding: metadata without a network hop through the S3 API. */
function bindingStorage(bucket: R2Bucket): Storage {
  return {
    async head(key) {
      const object = await bucket.head(key)
      if (!object) return null
      return {
        size: object.size,
        contentType: object.httpMetadata?.contentType,
        declaredSha256: object.customMetadata?.[metadataName],
      }
    },
    async sha256(key) {
      const object = await bucket.get(key)
      return object ? digest(object.body) : null
    },
    delete: (keys) => bucket.delete(keys),
    ping: async () => {
      await bucket.head('health/ping')
    },
  }
}

class StorageRequestError extends Error {
  constructor(operation: string, status: number) {
    super(`S3 ${operation} answered ${status}`)
    this.name = 'StorageRequestError'
  }
}

/** Any S3-compatible store, through header-signed requests to S3_ENDPOINT. */
function s3Storage(config: Config): Storage {
  const client = s3Client(config)
  const call = async (method: string, key: string, headers: Record<string, string> = {}) => {
    const response = await client.fetch(objectUrl(config, key).toString(), { method, headers })
    if (response.status === 404) {
      await response.body?.cancel()
      return null
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new StorageRequestError(method, response.status)
    }
    return response
  }

  return {
    async head(key) {
      const response = await call('HEAD', key)
      if (!response) return null
      return {
        size: Number(response.headers.get('content-length') ?? Number.NaN),
        contentType: response.headers.get('content-type') ?? undefined,
        declaredSha256: response.headers.get(declaredChecksumHeader) ?? undefined,
      }
    },
    async sha256(key) {
      const response = await call('GET', key)
      return response?.body ? digest(response.body) : null
    },
    async delete(keys) {
      // Sequential on purpose: the sweeper runs in the background and stores rate-limit.
      for (const key of keys) await call('DELETE', key)
    },
    ping: async () => {
      await call('HEAD', 'health/ping')
    },
  }
}

export function createStorage(config: Config): Storage {
  return config.STORAGE_VERIFY === 's3' ? s3Storage(config) : bindingStorage(config.DOCUMENTS)
}
