// Runs once in Node before any project: starts the local Neon and Upstash endpoints on free
// ports and provides their URLs, which vitest.config.ts turns into Worker bindings.
import { rmSync } from 'node:fs'
import type { TestProject } from 'vitest/node'

import { MEMORY_DATA_DIR, startLocalStack } from '../scripts/local-stack/stack.ts'

export interface LocalStackContext {
  /** The Worker's DATABASE_URL: the real server's URL, or a pglite.localhost name. */
  readonly databaseUrl: string
  readonly neonFetchEndpoint: string
  readonly upstash: { readonly url: string; readonly token: string } | null
  readonly database: 'pglite' | 'postgres'
  readonly redis: boolean
}

declare module 'vitest' {
  export interface ProvidedContext {
    localStack: LocalStackContext
  }
}

function nonEmptyEnv(name: string): string | undefined {
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : value
}

/** The database index a redis:// URL selects; its path is `/<index>`, empty meaning 0. */
function redisDatabaseIndex(redisUrl: string): number {
  const index = Number(new URL(redisUrl).pathname.slice(1) || '0')
  return Number.isInteger(index) ? index : 0
}

/**
 * In-memory PGlite by default: no lock, nothing left behind. `TEST_PGLITE_ON_DISK=1` uses a
 * fresh folder `.data/test-<pid>` instead (removed afterwards), which is closer to `npm run dev`.
 */
function pgliteLocation(): { database: string; cleanup: () => void } {
  if (nonEmptyEnv('TEST_PGLITE_ON_DISK') !== '1') {
    return { database: MEMORY_DATA_DIR, cleanup: () => undefined }
  }

  const folder = `.data/test-${process.pid}`
  return { database: folder, cleanup: () => rmSync(folder, { recursive: true, force: true }) }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now()
  const postgresUrl = nonEmptyEnv('TEST_DATABASE_URL')
  const redisUrl = nonEmptyEnv('TEST_REDIS_URL')
  const pglite = postgresUrl === undefined ? pgliteLocation() : undefined

  const stack = await startLocalStack({
    database: postgresUrl ?? pglite?.database ?? MEMORY_DATA_DIR,
    // A real server keeps data between runs; start from empty schemas so migrations apply.
    resetSchemas: postgresUrl !== undefined,
    ...(redisUrl === undefined
      ? {}
      : { redisUrl, flushRedis: redisDatabaseIndex(redisUrl) !== 0 }),
  })

  project.provide('localStack', {
    databaseUrl: stack.databaseUrl,
    neonFetchEndpoint: stack.neonFetchEndpoint,
    upstash: stack.upstash ?? null,
    database: stack.backends.database,
    redis: stack.backends.redis,
  })

  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const services = `${stack.backends.database}${stack.backends.redis ? ' + redis' : ''}`
  process.stderr.write(`local stack ready in ${seconds}s (${services})\n`)

  return async function teardown(): Promise<void> {
    try {
      await stack.close()
    } finally {
      pglite?.cleanup()
    }
  }
}
