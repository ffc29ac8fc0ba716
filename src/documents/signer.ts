import { AwsClient, AwsV4Signer } from 'aws4fetch'
import type { Config } from '../env'

/** What a client needs to send the bytes itself: every header listed here is signed. */
export interface PresignedRequest {
  method: 'PUT' | 'GET'
  url: string
  headers: Record<string, string>
  expiresAt: Date
}

export interface UploadTerms {
  contentType: string
  sizeBytes: number
  contentDisposition: string
  /** Lowercase hex; kept as signed object metadata so verification knows what to expect. */
  checksumSha256?: string | null
}

export interface DownloadTerms {
  contentDisposition: string
  contentType: string
}

// R2 takes any region name but signs with `auto`; the scope must say so.
const region = 'auto'
const service = 's3'

/** Object metadata (`customMetadata.sha256` through the binding) naming the expected hash. */
export const declaredChecksumHeader = 'x-amz-meta-sha256'

// Derived signing keys, one per secret and day, reused across requests of the isolate.
const signingKeys = new Map<string, ArrayBuffer>()

/** `20261203T221500Z`: SigV4's basic ISO 8601 form, seconds precision. */
export const amzDate = (at: Date) => at.toISOString().replace(/[:-]|\.\d{3}/g, '')

export function objectUrl(config: Config, key: string): URL {
  const path = key.split('/').map(encodeURIComponent).join('/')
  return new URL(`${config.S3_ENDPOINT.replace(/\/+$/, '')}/${config.S3_BUCKET}/${path}`)
}

async function presign(
  config: Config,
  method: 'PUT' | 'GET',
  url: URL,
  headers: Record<string, string>,
  ttlSeconds: number,
  now: Date,
): Promise<PresignedRequest> {
  url.searchParams.set('X-Amz-Expires', String(ttlSeconds))
  // The signer is used directly rather than through AwsClient.sign, which would build a
  // Request and so drop content-length, a header fetch never lets a caller set.
  const signer = new AwsV4Signer({
    method,
    url: url.toString(),
    headers,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    service,
    region,
    cache: signingKeys,
    datetime: amzDate(now),
    signQuery: true,
    // aws4fetch leaves content-type and content-length unsigned by default; they are the
    // terms of the upload, so the store must refuse any request that changes them.
    allHeaders: true,
  })
  const signed = await signer.sign()
  const expiresAt = new Date(Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000)
  return { method, url: signed.url.toString(), headers, expiresAt }
}

/** A PUT URL for exactly these bytes, which can create the object but never overwrite it. */
export function presignUpload(config: Config, key: string, terms: UploadTerms, now = new Date()) {
  const headers: Record<string, string> = {
    'content-type': terms.contentType,
    'content-length': String(terms.sizeBytes),
    'content-disposition': terms.contentDisposition,
    'if-none-match': '*',
  }
  // Not x-amz-checksum-sha256: stores differ in whether they check it (Miniflare ignores it),
  // so the API hashes the bytes itself at completion and compares with this declaration.
  if (terms.checksumSha256) headers[declaredChecksumHeader] = terms.checksumSha256
  const url = objectUrl(config, key)
  return presign(config, 'PUT', url, headers, config.UPLOAD_URL_TTL_SECONDS, now)
}

/** A short-lived GET; stores that honour `response-*` overrides serve these headers. */
export function presignDownload(
  config: Config,
  key: string,
  terms: DownloadTerms,
  now = new Date(),
) {
  const url = objectUrl(config, key)
  url.searchParams.set('response-content-disposition', terms.contentDisposition)
  url.searchParams.set('response-content-type', terms.contentType)
  return presign(config, 'GET', url, {}, config.DOWNLOAD_URL_TTL_SECONDS, now)
}

/** Header-signed S3 calls the API itself makes when it verifies through the S3 API. */
export function s3Client(config: Config) {
  return new AwsClient({
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    service,
    region,
    cache: signingKeys,
    retries: 2,
  })
}
