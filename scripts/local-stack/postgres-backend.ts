// A real PostgreSQL server behind the local Neon endpoint, reached through a pg Pool.
import pg from 'pg'
import type { PoolClient } from 'pg'

import {
  BackendUnavailableError,
  RAW_TEXT_TYPES,
  asPostgresError,
  runPgBatch,
  runPgStatementMapped,
} from './backend.ts'
import type { Backend, BatchOptions, SqlParam, Statement, StatementResult } from './backend.ts'

export interface PostgresBackendOptions {
  /** postgres:// or postgresql:// URL of a server on this machine. */
  readonly url: string
  /** Concurrent sessions; Neon serves HTTP queries from many, so more than one is realistic. */
  readonly maxConnections?: number
  readonly onError?: (message: string, error: unknown) => void
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/**
 * Refuses anything but this machine: the test setup drops schemas, which must never happen to
 * a shared or remote database because of a stray environment variable.
 */
export function assertLocalPostgresUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('PostgreSQL URL is not a valid URL')
  }

  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`PostgreSQL URL must use postgres: or postgresql:, got ${parsed.protocol}`)
  }

  const socketHost = parsed.searchParams.get('host')
  if (socketHost !== null && !socketHost.startsWith('/') && !LOOPBACK_HOSTS.has(socketHost)) {
    throw new Error(`refusing non-local PostgreSQL host ${socketHost}`)
  }
  if (parsed.hostname !== '' && !LOOPBACK_HOSTS.has(parsed.hostname.toLowerCase())) {
    throw new Error(`refusing non-local PostgreSQL host ${parsed.hostname}`)
  }
}

function reportToStderr(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error)
  process.stderr.write(`${JSON.stringify({ msg: message, error: detail })}\n`)
}

export async function openPostgresBackend(options: PostgresBackendOptions): Promise<Backend> {
  assertLocalPostgresUrl(options.url)
  const onError = options.onError ?? reportToStderr

  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 8,
    // Matches PGlite's default, so timestamptz text is identical on both backends.
    options: '-c TimeZone=UTC',
    application_name: 'currentmesh-local-stack',
    types: RAW_TEXT_TYPES,
    connectionTimeoutMillis: 5_000,
  })
  // An idle client losing its socket is reported here; without a listener it would crash Node.
  pool.on('error', function onIdleClientError(error) {
    onError('postgres idle client error', error)
  })

  async function withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw asPostgresError(error) ?? new BackendUnavailableError('cannot connect to PostgreSQL', {
        cause: error,
      })
    }

    try {
      const result = await work(client)
      client.release()
      return result
    } catch (error) {
      // Server errors leave the session usable; anything else may have broken it.
      client.release(error instanceof BackendUnavailableError ? error : undefined)
      throw error
    }
  }

  let closing: Promise<void> | undefined
  const backend: Backend = {
    kind: 'postgres',
    query(sql: string, params: readonly SqlParam[]): Promise<StatementResult> {
      return withClient((client) => runPgStatementMapped(client, { query: sql, params }))
    },
    batch(statements: readonly Statement[], batchOptions?: BatchOptions) {
      return withClient((client) => runPgBatch(client, statements, batchOptions))
    },
    close(): Promise<void> {
      closing ??= pool.end()
      return closing
    },
  }

  // Fail at startup, not on the first request, when the server is down or the URL is wrong.
  await backend.query('select 1', [])
  return backend
}
