// Applies drizzle-kit migrations through the local Neon endpoint with the production driver,
// so migrations take the same HTTP path (one request per statement) as they do against Neon.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'

import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-http'
import { migrate } from 'drizzle-orm/neon-http/migrator'

export interface ApplyMigrationsOptions {
  /** The connection string the Worker uses, e.g. postgresql://local:local@pglite.localhost/app */
  readonly databaseUrl: string
  /** The local endpoint, e.g. http://127.0.0.1:55433/sql; unset means Neon itself. */
  readonly fetchEndpoint?: string | undefined
  readonly migrationsFolder?: string
}

export interface AppliedMigrations {
  /** Entries in the journal; 0 means there was nothing to apply. */
  readonly journalEntries: number
}

/** Counts journal entries; a missing, empty or entry-less journal means no migrations yet. */
function countJournalEntries(migrationsFolder: string): number {
  const journalPath = path.join(migrationsFolder, 'meta', '_journal.json')
  if (!existsSync(journalPath)) return 0

  const text = readFileSync(journalPath, 'utf8')
  if (text.trim() === '') return 0

  let journal: unknown
  try {
    journal = JSON.parse(text)
  } catch (error) {
    throw new Error(`${journalPath} is not valid JSON`, { cause: error })
  }

  const entries: unknown =
    typeof journal === 'object' && journal !== null ? Reflect.get(journal, 'entries') : undefined
  return Array.isArray(entries) ? entries.length : 0
}

const CREATE_EXTENSION = /create\s+extension\s+(?:if\s+not\s+exists\s+)?"?([\w-]+)"?/gi

/** Extension names the migrations create, so a PGlite backend can load them before starting. */
export function extensionsInMigrations(migrationsFolder = 'drizzle'): string[] {
  if (!existsSync(migrationsFolder)) return []

  const names = new Set<string>()
  for (const file of readdirSync(migrationsFolder)) {
    if (!file.endsWith('.sql')) continue
    const text = readFileSync(path.join(migrationsFolder, file), 'utf8')
    for (const match of text.matchAll(CREATE_EXTENSION)) {
      if (match[1] !== undefined) names.add(match[1].toLowerCase())
    }
  }
  return [...names].sort()
}

function rootCauseMessage(error: unknown): string {
  let current = error
  while (current instanceof Error && current.cause instanceof Error) current = current.cause
  return current instanceof Error ? current.message : String(current)
}

export async function applyMigrations(options: ApplyMigrationsOptions): Promise<AppliedMigrations> {
  const migrationsFolder = options.migrationsFolder ?? 'drizzle'
  const journalEntries = countJournalEntries(migrationsFolder)
  if (journalEntries === 0) return { journalEntries }

  // fetchEndpoint is global to the driver; restore it so callers in this process are unaffected.
  const previousEndpoint = neonConfig.fetchEndpoint
  if (options.fetchEndpoint !== undefined) neonConfig.fetchEndpoint = options.fetchEndpoint
  try {
    const db = drizzle({ client: neon(options.databaseUrl) })
    await migrate(db, { migrationsFolder })
  } catch (error) {
    // drizzle's message is only the failing SQL; the database's reason sits in its cause.
    const reason = rootCauseMessage(error)
    throw new Error(`migrations in ${migrationsFolder} failed: ${reason}`, { cause: error })
  } finally {
    neonConfig.fetchEndpoint = previousEndpoint
  }
  return { journalEntries }
}
