import { Redis } from '@upstash/redis/cloudflare'
import type { Config } from '../env'
import type { RoundTripMeter } from '../platform/metrics'
import { bounded, type KeyValueStore } from './store'

/**
 * One fixed window per key, opened by its first hit and timed by Redis, not by the Worker's
 * clock (isolates on different machines disagree by a little). Atomic: Redis runs a script
 * without interleaving, so N concurrent hits on a quota of Q admit exactly min(N, Q).
 *
 * Not @upstash/ratelimit: since 2.1 its scripts start with `#!lua flags=allow-key-locking`,
 * a flag only Upstash knows; redis-server (and so the local REST endpoint the contract suite
 * runs against) refuses them with "Unexpected flag in script shebang".
 */
const fixedWindowScript = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`

export function createUpstashStore(config: Config, meter: RoundTripMeter): KeyValueStore {
  const timeoutMs = config.CACHE_TIMEOUT_MS
  const redis = new Redis(
    {
      url: config.UPSTASH_REDIS_REST_URL ?? '',
      token: config.UPSTASH_REDIS_REST_TOKEN ?? '',
      // The cache must answer fast or step aside. `retry: false` still tries twice, so zero
      // retries are asked for explicitly; the SDK's default retries take ~4 s.
      retry: { retries: 0 },
      // A signal *function* makes an abort throw; a plain signal would resolve "Aborted".
      signal: () => AbortSignal.timeout(timeoutMs),
      // One command, one HTTP call: keeps round-trip accounting exact.
      enableAutoPipelining: false,
      automaticDeserialization: false,
      enableTelemetry: false,
    },
    { UPSTASH_DISABLE_TELEMETRY: '1' },
  )
  const call = <T>(work: () => Promise<T>) =>
    meter.time('cache', () => bounded('upstash', timeoutMs, work))
  // EVALSHA first, EVAL once when Redis does not know the script yet.
  const script = redis.createScript<[number, number]>(fixedWindowScript)

  return {
    backend: 'upstash',
    guarantees: { atomic: true, consistency: 'strong', minTtlSeconds: 1 },
    get: (key) => call(() => redis.get<string>(key)),
    getMany: async (keys) => {
      if (keys.length === 0) return []
      return call(() => redis.mget<(string | null)[]>(...keys))
    },
    set: async (key, value, ttlSeconds) => {
      await call(() => redis.set(key, value, { ex: ttlSeconds }))
    },
    setMany: async (entries) => {
      if (entries.length === 0) return
      const pipeline = redis.pipeline()
      for (const entry of entries) pipeline.set(entry.key, entry.value, { ex: entry.ttlSeconds })
      await call(() => pipeline.exec())
    },
    delete: async (key) => {
      await call(() => redis.del(key))
    },
    tryLock: async (key, ttlMs) => {
      const taken = await call(() => redis.set(key, '1', { nx: true, px: ttlMs }))
      return taken === 'OK'
    },
    limit: async (key, quota, windowSeconds) => {
      const [count, ttlMs] = await call(() =>
        script.exec([`rl:${key}`], [String(windowSeconds * 1000)]),
      )
      return {
        allowed: count <= quota,
        remaining: Math.max(0, quota - count),
        resetAt: Date.now() + ttlMs,
      }
    },
    ping: async () => {
      await call(() => redis.ping())
    },
  }
}
