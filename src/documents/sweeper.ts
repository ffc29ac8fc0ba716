import { sql } from 'drizzle-orm'
import { uploadIntents } from '../db/schema'
import { type Config, loadConfig } from '../env'
import { createDatabase, type Database } from '../platform/database'
import { createLogger, type Logger } from '../platform/logger'
import { createStorage, type Storage } from './storage'

// R2's delete takes at most 1000 keys; a smaller batch keeps one run short.
const batchSize = 500
// A run that finds more than this many stale intents leaves the rest for the next run.
const maxBatchesPerRun = 4

export interface SweepResult {
  intents: number
  objects: number
}

/**
 * Removes upload intents that were never completed, and whatever their URLs stored. A row
 * is deleted before its object: a completion racing the sweep then finds no intent and
 * records nothing, and a completed intent is never touched (`completed_at is null`).
 */
export async function sweepAbandonedUploads(
  config: Config,
  db: Database,
  storage: Storage,
  log: Logger,
): Promise<SweepResult> {
  const total: SweepResult = { intents: 0, objects: 0 }

  for (let batch = 0; batch < maxBatchesPerRun; batch += 1) {
    const result = await db.execute<{ object_key: string }>(sql`
      delete from ${uploadIntents}
      where ${uploadIntents.id} in (
        select ${uploadIntents.id} from ${uploadIntents}
        where ${uploadIntents.completedAt} is null
          and ${uploadIntents.expiresAt}
            < now() - ${config.UPLOAD_ABANDON_AFTER_SECONDS}::integer * interval '1 second'
        order by ${uploadIntents.expiresAt}
        limit ${batchSize}
        for update skip locked
      )
      returning ${uploadIntents.objectKey} as object_key
    `)
    const keys = result.rows.map((row) => row.object_key)
    if (keys.length === 0) break

    total.intents += keys.length
    try {
      await storage.delete(keys)
      total.objects += keys.length
    } catch (error) {
      // The rows are gone, so these objects are orphans now; the log says how many.
      log.error('abandoned upload objects not deleted', {
        count: keys.length,
        errorMessage: error instanceof Error ? error.message : String(error),
      })
    }
    if (keys.length < batchSize) break
  }

  if (total.intents > 0) log.info('abandoned uploads swept', { ...total })
  return total
}

/** The Cron Trigger's entry: config parsed once, the same database and storage as requests. */
export async function runScheduledSweep(env: object, cron: string): Promise<void> {
  const log = createLogger({ cron })
  const config = loadConfig(env)
  await sweepAbandonedUploads(config, createDatabase(config), createStorage(config), log)
}
