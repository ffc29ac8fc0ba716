// Starts the local stand-ins for Neon and Upstash: a database backend behind the Neon endpoint,
// migrations applied through it, and the Upstash endpoint when a Redis URL is given.
// As a CLI (`node scripts/local-stack/stack.ts`) it serves `wrangler dev` on fixed ports.
import { pathToFileURL } from 'node:url'

import { createClient } from 'redis'

import type { Backend, BackendKind } from './backend.ts'
import { applyMigrations, extensionsInMigrations } from './migrate.ts'
import { startNeonEndpoint } from './neon-endpoint.ts'
import type { NeonEndpoint } from './neon-endpoint.ts'
import { MEMORY_DATA_DIR, openPgliteBackend } from './pglite-backend.ts'
import { openPostgresBackend } from './postgres-backend.ts'
import { assertLocalRedisUrl, startUpstashEndpoint } from './upstash-endpoint.ts'
import type { UpstashEndpoint } from './upstash-endpoint.ts'

export interface LocalStackConfig {
  /**
   * DATABASE_URL style: a postgres:// or postgresql:// URL selects that (local) PostgreSQL,
   * `memory://` a throw-away PGlite, anything else a PGlite folder. Default `.data/dev/pglite`.
   */
  readonly database?: string
  /** redis://127.0.0.1:6379/15 style; unset means no Upstash endpoint. */
  readonly redisUrl?: string
  readonly upstashToken?: string
  /** 0 or unset picks a free port. */
  readonly neonPort?: number
  readonly upstashPort?: number
  readonly migrationsFolder?: string
  /** Drop and recreate the `public` and `drizzle` schemas before migrating. */
  readonly resetSchemas?: boolean
  /** FLUSHDB the Redis database selected by redisUrl before serving. */
  readonly flushRedis?: boolean
}

export interface LocalStack {
  /** What the Worker's DATABASE_URL should be; the endpoint accepts only local hosts. */
  readonly databaseUrl: string
  /** What NEON_FETCH_ENDPOINT (neonConfig.fetchEndpoint) should be. */
  readonly neonFetchEndpoint: string
  readonly upstash: { readonly url: string; readonly token: string } | undefined
  readonly backends: { readonly database: BackendKind; readonly redis: boolean }
  close(): Promise<void>
}

export const DEFAULT_PGLITE_DIR = '.data/dev/pglite'
export const DEFAULT_UPSTASH_TOKEN = 'local-token'
/** Any local host works; this name says which backend answers without resolving anywhere. */
export const PGLITE_DATABASE_URL = 'postgresql://local:local@pglite.localhost/app'

function isPostgresUrl(database: string): boolean {
  return database.startsWith('postgres://') || database.startsWith('postgresql://')
}

function openBackend(database: string, migrationsFolder: string | undefined): Promise<Backend> {
  if (isPostgresUrl(database)) return openPostgresBackend({ url: database })
  const extensions = extensionsInMigrations(migrationsFolder)
  return openPgliteBackend({ dataDir: database, extensions })
}

async function resetSchemas(backend: Backend): Promise<void> {
  await backend.batch([
    { query: 'DROP SCHEMA IF EXISTS drizzle CASCADE', params: [] },
    { query: 'DROP SCHEMA IF EXISTS public CASCADE', params: [] },
    { query: 'CREATE SCHEMA public', params: [] },
  ])
}

async function flushRedisDatabase(redisUrl: string): Promise<void> {
  // Checked before anything is sent: FLUSHDB must never reach a shared or remote Redis.
  assertLocalRedisUrl(redisUrl)
  const client = createClient({ url: redisUrl, socket: { reconnectStrategy: false } })
  await client.connect()
  try {
    await client.flushDb()
  } finally {
    await client.close()
  }
}

/** Closes everything that started, in reverse order, and reports every failure together. */
async function closeAll(closers: readonly (() => Promise<void>)[]): Promise<void> {
  const failures: unknown[] = []
  for (const close of [...closers].reverse()) {
    try {
      await close()
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'local stack did not close cleanly')
}

export async function startLocalStack(config: LocalStackConfig = {}): Promise<LocalStack> {
  const database = config.database ?? DEFAULT_PGLITE_DIR
  const closers: (() => Promise<void>)[] = []

  try {
    const backend = await openBackend(database, config.migrationsFolder)
    closers.push(() => backend.close())

    if (config.resetSchemas === true) await resetSchemas(backend)

    const neon: NeonEndpoint = await startNeonEndpoint({ port: config.neonPort ?? 0, backend })
    closers.push(() => neon.close())

    const databaseUrl = backend.kind === 'pglite' ? PGLITE_DATABASE_URL : database
    await applyMigrations({
      databaseUrl,
      fetchEndpoint: neon.url,
      migrationsFolder: config.migrationsFolder,
    })

    let upstash: UpstashEndpoint | undefined
    const token = config.upstashToken ?? DEFAULT_UPSTASH_TOKEN
    if (config.redisUrl !== undefined) {
      if (config.flushRedis === true) await flushRedisDatabase(config.redisUrl)
      upstash = await startUpstashEndpoint({
        port: config.upstashPort ?? 0,
        redisUrl: config.redisUrl,
        token,
      })
      closers.push(() => upstash?.close() ?? Promise.resolve())
    }

    let closing: Promise<void> | undefined
    return {
      databaseUrl,
      neonFetchEndpoint: neon.url,
      upstash: upstash === undefined ? undefined : { url: upstash.url, token },
      backends: { database: backend.kind, redis: upstash !== undefined },
      close(): Promise<void> {
        closing ??= closeAll(closers)
        return closing
      },
    }
  } catch (error) {
    // A half-started stack must not keep a PGlite lock or a port.
    await closeAll(closers).catch(() => undefined)
    throw error
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback

  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number, got ${JSON.stringify(raw)}`)
  }
  return port
}

function nonEmptyEnv(name: string): string | undefined {
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : value
}

const SHUTDOWN_TIMEOUT_MS = 10_000

async function runCli(): Promise<void> {
  const redisUrl = nonEmptyEnv('LOCAL_REDIS_URL')
  const stack = await startLocalStack({
    database: nonEmptyEnv('LOCAL_PG_URL') ?? DEFAULT_PGLITE_DIR,
    ...(redisUrl === undefined ? {} : { redisUrl }),
    upstashToken: nonEmptyEnv('LOCAL_UPSTASH_TOKEN') ?? DEFAULT_UPSTASH_TOKEN,
    neonPort: portFromEnv('NEON_PORT', 55_433),
    upstashPort: portFromEnv('UPSTASH_PORT', 56_380),
  })

  // The same names as the Worker's variables, so the line can be pasted into .dev.vars.
  const ready = {
    ready: true,
    backends: stack.backends,
    DATABASE_URL: stack.databaseUrl,
    NEON_FETCH_ENDPOINT: stack.neonFetchEndpoint,
    ...(stack.upstash === undefined
      ? {}
      : {
          UPSTASH_REDIS_REST_URL: stack.upstash.url,
          UPSTASH_REDIS_REST_TOKEN: stack.upstash.token,
        }),
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`)

  let stopping = false
  function shutDown(signal: NodeJS.Signals): void {
    // Ctrl-C reaches the whole process group and a supervisor may add SIGTERM: a second
    // signal must not end the process by default before PGlite is closed and unlocked.
    if (stopping) return
    stopping = true
    process.stderr.write(`${JSON.stringify({ msg: 'local stack stopping', signal })}\n`)
    // A stuck close must not leave the process running forever.
    const deadline = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS)
    deadline.unref()

    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${JSON.stringify({ msg: 'close failed', error: String(error) })}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', shutDown)
  process.on('SIGTERM', shutDown)
}

const entry = process.argv[1]
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  runCli().catch(function reportStartFailure(error: unknown) {
    const message = error instanceof Error ? error.message : String(error)
    const line = JSON.stringify({ msg: 'local stack failed to start', error: message })
    process.stderr.write(`${line}\n`)
    process.exitCode = 1
  })
}

export { MEMORY_DATA_DIR }
