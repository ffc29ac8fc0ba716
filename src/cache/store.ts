import type { Config } from '../env'
import type { Logger } from '../platform/logger'
import type { RoundTripMeter } from '../platform/metrics'
import { createKvStore } from './kv-store'
import { createUpstashStore } from './upstash-store'

/** What a backend can promise; the cache and the limiter read this instead of assuming. */
export interface StoreGuarantees {
  /** Whether `tryLock` and `limit` are atomic across every isolate and location. */
  readonly atomic: boolean
  /** `eventual`: a write may take up to ~60 s to be seen in other locations (Workers KV). */
  readonly consistency: 'strong' | 'eventual'
  /** Shorter expirations are rounded up to this. */
  readonly minTtlSeconds: number
}

export interface StoreEntry {
  key: string
  value: string
  ttlSeconds: number
}

/** One fixed-window decision; `resetAt` is when the current window ends (epoch ms). */
export interface LimitDecision {
  allowed: boolean
  remaining: number
  resetAt: number
}

/**
 * The small key-value surface the cache and the limiter need, with one backend per
 * deployment choice: Upstash Redis over REST, or Workers KV. Every call is bounded by
 * CACHE_TIMEOUT_MS and fails with `StoreUnavailableError`; callers decide what that means.
 */
export interface KeyValueStore {
  readonly backend: 'upstash' | 'kv'
  readonly guarantees: StoreGuarantees
  get(key: string): Promise<string | null>
  /** Several keys in one round trip, in the order asked. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>
  set(key: string, value: string, ttlSeconds: number): Promise<void>
  /** Several writes; one round trip on Upstash, concurrent puts on KV. */
  setMany(entries: readonly StoreEntry[]): Promise<void>
  delete(key: string): Promise<void>
  /** Takes `key` for `ttlMs` if nobody holds it; see `guarantees.atomic`. */
  tryLock(key: string, ttlMs: number): Promise<boolean>
  /** Counts one hit against `quota` per fixed window of `windowSeconds`. */
  limit(key: string, quota: number, windowSeconds: number): Promise<LimitDecision>
  /** One cheap call that proves the backend answers. */
  ping(): Promise<void>
}

/** The backend failed or did not answer within the bounded timeout. */
export class StoreUnavailableError extends Error {
  readonly backend: KeyValueStore['backend']

  constructor(backend: KeyValueStore['backend'], reason: string, cause?: unknown) {
    super(`${backend} store unavailable: ${reason}`, { cause })
    this.name = 'StoreUnavailableError'
    this.backend = backend
  }
}

/** Runs `work` against a deadline; a late or failed answer becomes StoreUnavailableError. */
export async function bounded<T>(
  backend: KeyValueStore['backend'],
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(backend, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([work(), deadline])
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new StoreUnavailableError(backend, reason, error)
  } finally {
    clearTimeout(timer)
  }
}

/** Work the request should not wait for, e.g. `ExecutionContext.waitUntil`. */
export type Defer = (work: Promise<unknown>) => void

export function createKeyValueStore(
  config: Config,
  meter: RoundTripMeter,
  log: Logger,
  defer: Defer,
): KeyValueStore {
  if (config.CACHE_BACKEND === 'upstash') return createUpstashStore(config, meter)
  return createKvStore(config.CACHE_KV, meter, { timeoutMs: config.CACHE_TIMEOUT_MS, log, defer })
}
