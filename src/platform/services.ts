import { createKeyValueStore, type KeyValueStore } from '../cache/store'
import { createStorage, type Storage } from '../documents/storage'
import { createMailer, type Mailer } from '../email/mailer'
import type { Config } from '../env'
import { createDatabase, type Database } from './database'
import type { Logger } from './logger'
import type { RoundTripMeter } from './metrics'

/** What a handler may use; built once per request by `provideServices`. */
export interface Services {
  config: Config
  db: Database
  store: KeyValueStore
  storage: Storage
  mailer: Mailer
  log: Logger
  meter: RoundTripMeter
}

export function createServices(config: Config, log: Logger, meter: RoundTripMeter): Services {
  const db = createDatabase(config)
  const store = createKeyValueStore(config, meter, log)
  return {
    config,
    db,
    store,
    storage: createStorage(config),
    mailer: createMailer(config, db),
    log,
    meter,
  }
}
