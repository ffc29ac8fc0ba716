import { Redis } from '@upstash/redis/cloudflare'
import type { Config } from '../env'
import type { Logger } from '../platform/logger'
import type { RoundTripMeter } from '../platform/metrics'
import type { KeyValueStore } from './store'

export function createUpstashStore(
  config: Config,
  meter: RoundTripMeter,
  _log: Logger,
): KeyValueStore {
  const redis = new Redis(
    {
      url: config.UPSTASH_REDIS_REST_URL ?? '',
      token: config.UPSTASH_REDIS_REST_TOKEN ?? '',
      // The cache must answer fast or step aside; the SDK's default retries take ~4 s.
      retry: false,
      // One command, one HTTP call: keeps round-trip accounting exact.
      enableAutoPipelining: false,
      automaticDeserialization: false,
      enableTelemetry: false,
    },
    { UPSTASH_DISABLE_TELEMETRY: '1' },
  )
  return {
    backend: 'upstash',
    get: (key) => meter.time('cache', () => redis.get<string>(key)),
    set: async (key, value, ttlSeconds) => {
      await meter.time('cache', () => redis.set(key, value, { ex: ttlSeconds }))
    },
    delete: async (key) => {
      await meter.time('cache', () => redis.del(key))
    },
    ping: async () => {
      await meter.time('cache', () => redis.ping())
    },
  }
}
