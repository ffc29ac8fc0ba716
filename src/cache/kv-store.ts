import type { Logger } from '../platform/logger'
import { describeError } from '../platform/logger'
import type { RoundTripMeter } from '../platform/metrics'
import { bounded, type Defer, type KeyValueStore } from './store'

// KV refuses expirations shorter than 60 seconds.
const minimumKvTtl = 60
// KV accepts about one write per second to the same key; faster writes are refused.
const writeIntervalMs = 1000
// Bulk reads take at most 100 keys.
const maxBulkKeys = 100
// Bounds the isolate's memory of limiter windows however many callers it sees.
const maxLocalWindows = 10_000

interface LocalWindow {
  count: number
  lastWriteAt: number
}

/**
 * Limiter windows this isolate has counted. KV has no atomic increment, so each isolate
 * counts its own admissions exactly here and merges what other isolates wrote to KV: one
 * isolate never admits more than the quota, and the whole fleet at most quota × isolates.
 */
const localWindows = new Map<string, LocalWindow>()

function rememberWindow(slot: string): LocalWindow {
  const known = localWindows.get(slot)
  if (known) return known
  if (localWindows.size >= maxLocalWindows) {
    const oldest = localWindows.keys().next().value
    if (oldest !== undefined) localWindows.delete(oldest)
  }
  const fresh = { count: 0, lastWriteAt: 0 }
  localWindows.set(slot, fresh)
  return fresh
}

/** A lock is stored as its expiry time, because KV cannot expire anything sooner than 60 s. */
const lockIsLive = (value: string | null) => value !== null && Number(value) > Date.now()

interface KvStoreOptions {
  timeoutMs: number
  log: Logger
  defer: Defer
}

export function createKvStore(
  kv: KVNamespace,
  meter: RoundTripMeter,
  options: KvStoreOptions,
): KeyValueStore {
  const call = <T>(work: () => Promise<T>) =>
    meter.time('cache', () => bounded('kv', options.timeoutMs, work))
  const ttl = (seconds: number) => ({ expirationTtl: Math.max(seconds, minimumKvTtl) })

  return {
    backend: 'kv',
    guarantees: { atomic: false, consistency: 'eventual', minTtlSeconds: minimumKvTtl },
    get: (key) => call(() => kv.get(key)),
    getMany: async (keys) => {
      if (keys.length === 0) return []
      if (keys.length > maxBulkKeys) throw new Error(`KV reads at most ${maxBulkKeys} keys at once`)
      const found = await call(() => kv.get([...keys], 'text'))
      return keys.map((key) => found.get(key) ?? null)
    },
    set: (key, value, ttlSeconds) => call(() => kv.put(key, value, ttl(ttlSeconds))),
    setMany: async (entries) => {
      await Promise.all(
        entries.map((entry) => call(() => kv.put(entry.key, entry.value, ttl(entry.ttlSeconds)))),
      )
    },
    delete: (key) => call(() => kv.delete(key)),
    // Best effort: read, then write. Two isolates can both win; the in-isolate single flight
    // in the response cache keeps that to one query per isolate.
    tryLock: async (key, ttlMs) => {
      if (lockIsLive(await call(() => kv.get(key)))) return false
      await call(() => kv.put(key, String(Date.now() + ttlMs), ttl(Math.ceil(ttlMs / 1000))))
      return true
    },
    limit: async (key, quota, windowSeconds) => {
      const windowMs = windowSeconds * 1000
      const window = Math.floor(Date.now() / windowMs)
      const resetAt = (window + 1) * windowMs
      const slot = `rl:${key}:${window}`
      const local = rememberWindow(slot)

      // Already over in this isolate: refuse without I/O.
      if (local.count >= quota) return { allowed: false, remaining: 0, resetAt }
      // Claimed before awaiting, so concurrent requests in this isolate cannot overshoot.
      local.count += 1
      const claimed = local.count

      const written = Number(await call(() => kv.get(slot))) || 0
      local.count = Math.max(local.count, written + 1)
      const allowed = claimed <= quota && local.count <= quota

      const now = Date.now()
      if (now - local.lastWriteAt >= writeIntervalMs) {
        local.lastWriteAt = now
        const write = call(() => kv.put(slot, String(local.count), ttl(windowSeconds + 60)))
        options.defer(
          write.catch((error: unknown) =>
            options.log.warn('rate limit count not written', describeError(error)),
          ),
        )
      }
      return { allowed, remaining: Math.max(0, quota - local.count), resetAt }
    },
    ping: async () => {
      await call(() => kv.get('health:ping'))
    },
  }
}
