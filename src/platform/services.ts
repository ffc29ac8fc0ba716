import { ResponseCache } from '../cache/response-cache'
import { createKeyValueStore, type Defer, type KeyValueStore } from '../cache/store'
import { createStorage, type Storage } from '../documents/storage'
import { createMailer, type Mailer } from '../email/mailer'
import type { Config } from '../env'
import { createDatabase, type Database } from './database'
import type { Logger } from './logger'
import type { RoundTripMeter } from './metrics'

/** What a handler may use; built once per request by the `requestContext` middleware. */
export interface Services {
  config: Config
  db: Database
  store: KeyValueStore
  cache: ResponseCache
  storage: Storage
  mailer: Mailer
  log: Logger
  meter: RoundTripMeter
}

export function createServices(
  config: Config,
  log: Logger,
  meter: RoundTripMeter,
  defer: Defer,
): Services {
  const db = createDatabase(config)
  const store = createKeyValueStore(config, meter, log, defer)
  return {
    config,
    db,
    store,
    cache: new ResponseCache(store, config, log, defer),
    storage: createStorage(config),
    mailer: createMailer(config, db),
    log,
    meter,
  }
}
