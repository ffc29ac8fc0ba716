import type { RoundTripMeter } from '../platform/metrics'
import type { KeyValueStore } from './store'

// KV refuses expirations shorter than 60 seconds.
const minimumKvTtl = 60

export function createKvStore(kv: KVNamespace, meter: RoundTripMeter): KeyValueStore {
  return {
    backend: 'kv',
    get: (key) => meter.time('cache', () => kv.get(key)),
    set: (key, value, ttlSeconds) =>
      meter.time('cache', () =>
        kv.put(key, value, { expirationTtl: Math.max(ttlSeconds, minimumKvTtl) }),
      ),
    delete: (key) => meter.time('cache', () => kv.delete(key)),
    ping: async () => {
      await meter.time('cache', () => kv.get('health:ping'))
    },
  }
}
