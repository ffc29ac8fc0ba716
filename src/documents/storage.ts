import type { Config } from '../env'

/** Object storage as the API uses it: metadata through the R2 binding, bytes never. */
export interface Storage {
  head(key: string): Promise<R2Object | null>
  delete(keys: string[]): Promise<void>
  /** One cheap call that proves the bucket answers. */
  ping(): Promise<void>
}

export function createStorage(config: Config): Storage {
  const bucket = config.DOCUMENTS
  return {
    head: (key) => bucket.head(key),
    delete: (keys) => bucket.delete(keys),
    ping: async () => {
      await bucket.head('health/ping')
    },
  }
}
