// PGlite (PostgreSQL compiled to WASM) behind the local Neon endpoint, through its
// node-postgres adapter, which measured faster than PGlite's own query API.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

import { PGlite } from '@electric-sql/pglite'
import type { Extension, Extensions } from '@electric-sql/pglite'
import { createPgConfig } from '@electric-sql/pglite/node-postgres'
import pg from 'pg'

import {
  BackendUnavailableError,
  RAW_TEXT_TYPES,
  runPgBatch,
  runPgStatementMapped,
} from './backend.ts'
import type { Backend, BatchOptions, SqlParam, Statement, StatementResult } from './backend.ts'

export interface PgliteBackendOptions {
  /** A folder (created when missing) or `memory://` for a throw-away database. */
  readonly dataDir: string
  /**
   * Extensions to load from PGlite's contrib bundle, by SQL name (e.g. pg_trgm). PGlite can
   * only CREATE EXTENSION what was loaded at startup; names it does not bundle are skipped.
   */
  readonly extensions?: readonly string[]
  readonly onError?: (message: string, error: unknown) => void
}

export const MEMORY_DATA_DIR = 'memory://'
export const LOCK_FILE_NAME = 'local-stack.lock'

function errnoCode(error: unknown): unknown {
  return error instanceof Error ? Reflect.get(error, 'code') : undefined
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    return errnoCode(error) === 'EPERM'
  }
}

function readLockPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Two processes on one PGlite folder corrupt it without any error (rows lost, broken indexes),
 * so exactly one process may own a folder. A lock left by a dead pid is taken over. Two
 * processes taking over the same stale lock at the same instant can still race; that needs a
 * crash followed by two simultaneous starts, and is accepted.
 */
export function acquireFolderLock(folder: string): () => void {
  const lockPath = path.join(folder, LOCK_FILE_NAME)

  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' })
      return function releaseFolderLock(): void {
        if (readLockPid(lockPath) === process.pid) rmSync(lockPath, { force: true })
      }
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error
    }

    const holder = readLockPid(lockPath)
    if (holder !== undefined && isProcessAlive(holder)) {
      throw new Error(
        `PGlite folder ${folder} is in use by pid ${holder}; ` +
          'stop that process or use another folder (two owners corrupt the data silently)',
      )
    }
    rmSync(lockPath, { force: true })
  }

  throw new Error(`could not take the lock on PGlite folder ${folder}`)
}

/** PGlite is a single session, so whole requests (batches included) run one at a time. */
function createSerialQueue(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()

  return function runExclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = tail.then(work)
    tail = result.catch(() => undefined)
    return result
  }
}

function reportToStderr(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error)
  process.stderr.write(`${JSON.stringify({ msg: message, error: detail })}\n`)
}

function isExtension(value: unknown): value is Extension {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'name') === 'string' &&
    typeof Reflect.get(value, 'setup') === 'function'
  )
}

async function loadContribExtensions(sqlNames: readonly string[]): Promise<Extensions> {
  const extensions: Extensions = {}

  for (const sqlName of sqlNames) {
    const moduleName = sqlName.toLowerCase().replaceAll('-', '_')
    if (!/^[a-z0-9_]+$/.test(moduleName)) continue

    let namespace: unknown
    try {
      namespace = await import(`@electric-sql/pglite/contrib/${moduleName}`)
    } catch {
      // Not bundled (or built in, like plpgsql): CREATE EXTENSION reports it if it matters.
      continue
    }
    const extension: unknown =
      typeof namespace === 'object' && namespace !== null
        ? Reflect.get(namespace, moduleName)
        : undefined
    if (isExtension(extension)) extensions[moduleName] = extension
  }
  return extensions
}

async function createPglite(
  dataDir: string,
  extensionNames: readonly string[],
): Promise<{ lite: PGlite; release: () => void }> {
  const extensions = await loadContribExtensions(extensionNames)
  if (dataDir === MEMORY_DATA_DIR) {
    return { lite: await PGlite.create(MEMORY_DATA_DIR, { extensions }), release: () => undefined }
  }

  const folder = path.resolve(dataDir)
  // PGlite's NodeFS fails with ENOENT when parent folders are missing.
  mkdirSync(folder, { recursive: true })
  const release = acquireFolderLock(folder)
  try {
    return { lite: await PGlite.create(folder, { extensions }), release }
  } catch (error) {
    release()
    throw error
  }
}

export async function openPgliteBackend(options: PgliteBackendOptions): Promise<Backend> {
  const onError = options.onError ?? reportToStderr
  const { lite, release } = await createPglite(options.dataDir, options.extensions ?? [])
  const runExclusive = createSerialQueue()
  let client: pg.Client | undefined

  // One pg Client, not a Pool: pg-pool destroys a client after an error and the next client
  // would share the adapter's connection object, receiving the old client's late 'end' event.
  async function session(): Promise<pg.Client> {
    if (client !== undefined) return client

    const fresh = new pg.Client({ ...createPgConfig(lite), types: RAW_TEXT_TYPES })
    fresh.on('error', function onSessionError(error) {
      onError('pglite session error', error)
      if (client === fresh) client = undefined
    })
    await fresh.connect()
    // A replaced session is still the same PGlite backend: end any transaction it left open.
    await fresh.query('ROLLBACK')
    await fresh.query("SET TimeZone TO 'UTC'")
    client = fresh
    return fresh
  }

  async function withSession<T>(work: (session: pg.Client) => Promise<T>): Promise<T> {
    return runExclusive(async function runOnSession() {
      const current = await session()
      try {
        return await work(current)
      } catch (error) {
        if (error instanceof BackendUnavailableError && client === current) {
          client = undefined
          await current.end().catch(() => undefined)
        }
        throw error
      }
    })
  }

  let closing: Promise<void> | undefined

  async function closeOnce(): Promise<void> {
    await runExclusive(async function closeSession() {
      await client?.end().catch((error: unknown) => onError('pglite session end failed', error))
      client = undefined
      await lite.close()
    })
    release()
  }

  const backend: Backend = {
    kind: 'pglite',
    query(sql: string, params: readonly SqlParam[]): Promise<StatementResult> {
      return withSession((current) => runPgStatementMapped(current, { query: sql, params }))
    },
    batch(statements: readonly Statement[], batchOptions?: BatchOptions) {
      return withSession((current) => runPgBatch(current, statements, batchOptions))
    },
    close(): Promise<void> {
      closing ??= closeOnce()
      return closing
    },
  }

  try {
    await backend.query('select 1', [])
  } catch (error) {
    await backend.close()
    throw error
  }
  return backend
}
