import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle, type NeonHttpDatabase } from 'drizzle-orm/neon-http'
import * as schema from '../db/schema'
import type { Config } from '../env'
import { meterContext } from './metrics'

export type Database = NeonHttpDatabase<typeof schema>

/** Every HTTP request the driver makes is one database round trip for the current meter. */
function meteredFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const meter = meterContext.getStore()
  if (!meter) return fetch(input, init)
  return meter.time('db', () => fetch(input, init))
}

const databases = new Map<string, Database>()

/**
 * One drizzle instance per isolate and URL: the HTTP driver holds no connection, so sharing
 * it across requests reuses no I/O object, and building the schema map once saves CPU.
 */
export function createDatabase(config: Config): Database {
  // The driver's settings are isolate-global; locally they point it at the /sql endpoint.
  if (config.NEON_FETCH_ENDPOINT !== undefined) {
    neonConfig.fetchEndpoint = config.NEON_FETCH_ENDPOINT
  }
  neonConfig.fetchFunction = meteredFetch

  const existing = databases.get(config.DATABASE_URL)
  if (existing) return existing

  const db = drizzle({ client: neon(config.DATABASE_URL), schema, casing: 'snake_case' })
  databases.set(config.DATABASE_URL, db)
  return db
}

interface PostgresError {
  code?: string
  constraint?: string
  detail?: string
}

/** The Postgres error under drizzle's wrapper (`DrizzleQueryError.cause`), if there is one. */
export function postgresError(error: unknown): PostgresError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const candidate = current as Error & PostgresError
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate
  }
  return undefined
}

export const isUniqueViolation = (error: unknown, constraint?: string) => {
  const pg = postgresError(error)
  return pg?.code === '23505' && (constraint === undefined || pg.constraint === constraint)
}

/** True for failures to reach the database at all, as opposed to errors it reported. */
export function isDatabaseUnreachable(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current.name === 'NeonDbError' && postgresError(current) === undefined) return true
  }
  return false
}
