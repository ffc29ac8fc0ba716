// The embedded local configuration: what the Worker is given when it runs on this machine
// instead of Cloudflare. One place, shared by `npm run dev`, the Worker E2E tests and the bench.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export const localS3Credentials = {
  // Must match `local_dev.experimental_s3_credentials` in wrangler.toml.
  accessKeyId: 'local-access-key',
  secretAccessKey: 'local-secret-key',
}

export const localBucket = 'currentmesh-documents'

/** The connection string the Worker uses for PGlite; the host tells the endpoint it is local. */
export const pgliteDatabaseUrl = 'postgresql://local:local@pglite.localhost/app'

export interface LocalWorkerOptions {
  /** Origin the Worker is served on, e.g. http://127.0.0.1:8787 */
  origin: string
  databaseUrl: string
  neonFetchEndpoint: string
  upstash?: { url: string; token: string } | undefined
  jwtSecret: string
  appEnv?: 'development' | 'test'
}

/** Vars and secrets for a local Worker; production takes these from wrangler secrets. */
export function localWorkerVars(options: LocalWorkerOptions): Record<string, string> {
  const origins = new Set([options.origin, options.origin.replace('localhost', '127.0.0.1')])
  return {
    APP_ENV: options.appEnv ?? 'development',
    APP_ORIGINS: [...origins].join(','),
    DATABASE_URL: options.databaseUrl,
    NEON_FETCH_ENDPOINT: options.neonFetchEndpoint,
    JWT_SECRET: options.jwtSecret,
    S3_ENDPOINT: `${options.origin}/cdn-cgi/local/r2/s3`,
    S3_BUCKET: localBucket,
    S3_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
    PORTAL_BASE_URL: `${options.origin}/portal`,
    APP_BASE_URL: `${options.origin}/app`,
    EMAIL_BACKEND: 'outbox',
    ...(options.upstash
      ? {
          CACHE_BACKEND: 'upstash',
          UPSTASH_REDIS_REST_URL: options.upstash.url,
          UPSTASH_REDIS_REST_TOKEN: options.upstash.token,
        }
      : { CACHE_BACKEND: 'kv' }),
  }
}

/** A development signing secret made once per checkout, so sessions survive restarts. */
export function developmentJwtSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dirname(file), { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, `${secret}\n`, { mode: 0o600 })
  return secret
}

/** Keeps wrangler, miniflare and workerd from reaching for anything but 127.0.0.1. */
export const quietWranglerEnv = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
}
