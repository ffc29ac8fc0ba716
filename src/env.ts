import { z } from 'zod'
import { logLevels } from './platform/logger'

const commaList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback)

const defaultUploadContentTypes: string[] = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/tiff',
  'image/heic',
  'text/csv',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/zip',
]

const windowUnits = { s: 1, m: 60, h: 60 * 60 } as const

/** A rate-limit policy written `<quota>/<window>`, e.g. `100/15m`; units are s, m and h. */
const ratePolicy = (fallback: string) =>
  z
    .string()
    .regex(/^[1-9]\d*\/[1-9]\d*[smh]$/, 'expected <quota>/<window>, e.g. 100/15m')
    .default(fallback)
    .transform((value) => {
      const [quota = '', window = ''] = value.split('/')
      const unit = window.slice(-1) as keyof typeof windowUnits
      const windowSeconds = Number(window.slice(0, -1)) * windowUnits[unit]
      return { quota: Number(quota), windowSeconds }
    })

const bindingObject = <T>(name: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, `${name} binding is missing`)

/** Every variable, secret and binding the Worker reads, parsed once per isolate. */
const configSchema = z
  .object({
    APP_ENV: z.enum(['development', 'test', 'production']),
    APP_ORIGINS: commaList,
    LOG_LEVEL: z.enum(logLevels).default('info'),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/[^/]+\/.+/, 'expected postgresql://…/db'),
    NEON_FETCH_ENDPOINT: z.url().optional(),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
    JWT_ISSUER: z.string().min(1),
    ACCESS_TOKEN_TTL_SECONDS: seconds(900),
    REFRESH_TOKEN_TTL_SECONDS: seconds(60 * 60 * 24 * 30),
    // A rotated refresh token presented again this soon is a second tab, not a thief.
    REFRESH_REUSE_GRACE_SECONDS: seconds(30),
    INVITATION_TTL_SECONDS: seconds(60 * 60 * 24 * 7),
    PORTAL_LINK_TTL_SECONDS: seconds(15 * 60),
    PORTAL_SESSION_TTL_SECONDS: seconds(8 * 60 * 60),
    CACHE_BACKEND: z.enum(['kv', 'upstash']).default('kv'),
    CACHE_TTL_SECONDS: seconds(300),
    CACHE_TIMEOUT_MS: seconds(250),
    // How long one request may hold a hot key's refill lock; others wait at most this long.
    CACHE_LOCK_MS: seconds(2000),
    // How long a cached proof that a portal session or staff token is still good is trusted.
    CACHE_PRINCIPAL_TTL_SECONDS: seconds(60),
    // KV only: after a write, the writer's reads skip the cache for KV's propagation window.
    CACHE_WRITER_BYPASS_SECONDS: seconds(60),
    // Per client IP on credential routes (CF-Connecting-IP); fail closed.
    RATE_LIMIT_LOGIN: ratePolicy('10/5m'),
    RATE_LIMIT_SIGNUP: ratePolicy('5/1h'),
    RATE_LIMIT_REFRESH: ratePolicy('30/5m'),
    RATE_LIMIT_SIGNIN_LINKS: ratePolicy('5/15m'),
    RATE_LIMIT_PORTAL_SESSIONS: ratePolicy('10/5m'),
    RATE_LIMIT_INVITATIONS: ratePolicy('10/5m'),
    // Per staff user or portal contact on the authenticated API; fail open.
    RATE_LIMIT_API: ratePolicy('100/15m'),
    // Per organization on upload intents; fail open.
    RATE_LIMIT_UPLOADS: ratePolicy('200/1h'),
    UPSTASH_REDIS_REST_URL: z.url().optional(),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
    S3_ENDPOINT: z.url(),
    S3_BUCKET: z.string().min(1),
    S3_ACCESS_KEY_ID: z.string().min(1),
    S3_SECRET_ACCESS_KEY: z.string().min(1),
    UPLOAD_URL_TTL_SECONDS: seconds(300),
    DOWNLOAD_URL_TTL_SECONDS: seconds(60),
    UPLOAD_MAX_BYTES: seconds(100 * 1024 * 1024),
    // Media types an upload may declare: audit evidence, not executables or web pages.
    UPLOAD_CONTENT_TYPES: commaList.default(defaultUploadContentTypes),
    // How long after its URL expired an unfinished upload is kept before the cron removes it.
    UPLOAD_ABANDON_AFTER_SECONDS: seconds(60 * 60),
    // `binding` reads object metadata through R2; `s3` sends a signed HEAD to S3_ENDPOINT.
    STORAGE_VERIFY: z.enum(['binding', 's3']).default('binding'),
    MAX_BODY_BYTES: seconds(1024 * 1024),
    EMAIL_BACKEND: z.enum(['outbox', 'http']).default('outbox'),
    EMAIL_API_URL: z.url().optional(),
    EMAIL_API_KEY: z.string().min(1).optional(),
    EMAIL_FROM: z.string().min(3).default('CurrentMesh <no-reply@currentmesh.local>'),
    PORTAL_BASE_URL: z.url().default('http://localhost:8787/portal'),
    // The staff web app; invitation mails link to it.
    APP_BASE_URL: z.url().default('http://localhost:8787/app'),
    CACHE_KV: bindingObject<KVNamespace>('CACHE_KV'),
    DOCUMENTS: bindingObject<R2Bucket>('DOCUMENTS'),
  })
  .superRefine((config, ctx) => {
    const need = (key: keyof typeof config, why: string) => {
      if (config[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: why })
    }
    if (config.CACHE_BACKEND === 'upstash') {
      need('UPSTASH_REDIS_REST_URL', 'required when CACHE_BACKEND is upstash')
      need('UPSTASH_REDIS_REST_TOKEN', 'required when CACHE_BACKEND is upstash')
    }
    if (config.EMAIL_BACKEND === 'http') {
      need('EMAIL_API_URL', 'required when EMAIL_BACKEND is http')
      need('EMAIL_API_KEY', 'required when EMAIL_BACKEND is http')
    }
    if (config.APP_ENV === 'production') {
      // The outbox keeps mail readable in the database: a development tool only.
      if (config.EMAIL_BACKEND === 'outbox') {
        ctx.addIssue({
          code: 'custom',
          path: ['EMAIL_BACKEND'],
          message: 'the local outbox cannot be used in production; set EMAIL_BACKEND=http',
        })
      }
      if (config.NEON_FETCH_ENDPOINT !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['NEON_FETCH_ENDPOINT'],
          message: 'points the database driver at a local endpoint; unset it in production',
        })
      }
    }
  })

export type Config = z.infer<typeof configSchema>

/** Thrown when the environment is incomplete; the message names every offending variable. */
export class ConfigError extends Error {
  readonly variables: string[]

  constructor(variables: string[], message: string) {
    super(message)
    this.name = 'ConfigError'
    this.variables = variables
  }
}

const parsed = new WeakMap<object, Config>()

export function loadConfig(env: object): Config {
  const cached = parsed.get(env)
  if (cached) return cached

  const result = configSchema.safeParse(env)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({
      variable: issue.path.join('.') || '(environment)',
      message: issue.message,
    }))
    const variables = problems.map((problem) => problem.variable)
    const list = problems.map((problem) => `${problem.variable}: ${problem.message}`).join('; ')
    throw new ConfigError(variables, `Invalid configuration: ${list}`)
  }

  parsed.set(env, result.data)
  return result.data
}
