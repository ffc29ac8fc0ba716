// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// A pg Pool, and a per-request meter that counts every statement sent to PostgreSQL as one
// round trip (BEGIN and COMMIT included), reported in Server-Timing like the Worker does.
import { AsyncLocalStorage } from 'node:async_hooks'

import pg from 'pg'

/** @typedef {{ count: number, ms: number }} Tally */
/** @typedef {{ db: Tally, cache: Tally, startedAt: number }} Meter */

/** @type {AsyncLocalStorage<Meter>} */
export const meters = new AsyncLocalStorage()

/** @returns {Meter} */
export const newMeter = () => ({
  db: { count: 0, ms: 0 },
  cache: { count: 0, ms: 0 },
  startedAt: performance.now(),
})

/**
 * @template T
 * @param {'db' | 'cache'} kind
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function timed(kind, work) {
  const tally = meters.getStore()?.[kind]
  const started = performance.now()
  if (tally) tally.count += 1
  try {
    return await work()
  } finally {
    if (tally) tally.ms += performance.now() - started
  }
}

/** @param {Meter} meter */
export function serverTiming(meter) {
  const total = performance.now() - meter.startedAt
  return [
    `db;dur=${meter.db.ms.toFixed(1)};desc="${meter.db.count}"`,
    `cache;dur=${meter.cache.ms.toFixed(1)};desc="${meter.cache.count}"`,
    `total;dur=${total.toFixed(1)}`,
  ].join(', ')
}

/** @param {string} url @param {number} max */
export function createPool(url, max) {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: '-c TimeZone=UTC',
    application_name: 'currentmesh-bench-baseline',
  })
  pool.on('error', (error) => process.stderr.write(`pg idle client error: ${error.message}\n`))
  return pool
}

/**
 * One statement, one round trip.
 * @param {pg.Pool | pg.PoolClient} runner
 * @param {string} text
 * @param {unknown[]} [params]
 */
export function query(runner, text, params = []) {
  return timed('db', () => runner.query(text, params))
}

/**
 * BEGIN, the work, COMMIT (or ROLLBACK): the classic interactive transaction, each statement
 * its own round trip over the pooled connection.
 * @template T
 * @param {pg.Pool} pool
 * @param {(client: pg.PoolClient) => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function transaction(pool, work) {
  const client = await pool.connect()
  try {
    await query(client, 'begin')
    const result = await work(client)
    await query(client, 'commit')
    return result
  } catch (error) {
    await query(client, 'rollback').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
