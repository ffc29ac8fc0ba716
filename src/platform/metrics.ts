import { AsyncLocalStorage } from 'node:async_hooks'

interface Tally {
  count: number
  ms: number
}

/**
 * Counts the round trips one request makes to each dependency, so every response can say
 * how many it cost (Server-Timing) and tests and benchmarks can hold endpoints to a budget.
 */
export class RoundTripMeter {
  readonly db: Tally = { count: 0, ms: 0 }
  readonly cache: Tally = { count: 0, ms: 0 }
  readonly startedAt = performance.now()
  /** HIT, MISS or BYPASS when the response cache was consulted. */
  cacheResult: string | undefined

  async time<T>(kind: 'db' | 'cache', work: () => Promise<T>): Promise<T> {
    const tally = this[kind]
    const started = performance.now()
    tally.count += 1
    try {
      return await work()
    } finally {
      tally.ms += performance.now() - started
    }
  }

  serverTiming(): string {
    const total = performance.now() - this.startedAt
    return [
      `db;dur=${this.db.ms.toFixed(1)};desc="${this.db.count}"`,
      `cache;dur=${this.cache.ms.toFixed(1)};desc="${this.cache.count}"`,
      `total;dur=${total.toFixed(1)}`,
    ].join(', ')
  }
}

/**
 * The Neon driver's fetch hook is global to the isolate, while meters are per request:
 * the request's meter travels in async context so concurrent requests never mix counts.
 */
export const meterContext = new AsyncLocalStorage<RoundTripMeter>()
