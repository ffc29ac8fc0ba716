import type { Config } from '../env'
import type { Logger } from '../platform/logger'
import type { RoundTripMeter } from '../platform/metrics'
import { createKvStore } from './kv-store'
import { createUpstashStore } from './upstash-store'

/**
 * The small key-value surface the cache and the limiter need, with one backend per
 * deployment choice: Upstash Redis over REST, or Workers KV.
 */
export interface KeyValueStore {
  readonly backend: 'upstash' | 'kv'
  get(key: string): Promise<string | null>
  set(key: string, value: string, ttlSeconds: number): Promise<void>
  delete(key: string): Promise<void>
  /** One cheap call that proves the backend answers. */
  ping(): Promise<void>
}

export function createKeyValueStore(
  config: Config,
  meter: RoundTripMeter,
  log: Logger,
): KeyValueStore {
  if (config.CACHE_BACKEND === 'upstash') return createUpstashStore(config, meter, log)
  return createKvStore(config.CACHE_KV, meter)
}
