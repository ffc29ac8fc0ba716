// The contract between the local Neon endpoint and the databases behind it, plus the pg helpers
// both backends share. Values never leave here parsed: the driver expects Postgres text output.
import type { ClientBase, FieldDef, QueryArrayConfig, QueryArrayResult } from 'pg'

/** The driver sends every parameter as Postgres text or null (see pg's prepareValue). */
export type SqlParam = string | null

export interface Statement {
  readonly query: string
  readonly params: readonly SqlParam[]
}

export interface FieldDescription {
  readonly name: string
  readonly tableID: number
  readonly columnID: number
  readonly dataTypeID: number
  readonly dataTypeSize: number
  readonly dataTypeModifier: number
  readonly format: 'text'
}

export interface StatementResult {
  readonly fields: readonly FieldDescription[]
  readonly rows: readonly (readonly (string | null)[])[]
  readonly command: string
  /** null for tags without a count, such as CREATE. */
  readonly rowCount: number | null
}

export type IsolationLevel = 'ReadUncommitted' | 'ReadCommitted' | 'RepeatableRead' | 'Serializable'

export interface BatchOptions {
  readonly isolationLevel?: IsolationLevel
  readonly readOnly?: boolean
  readonly deferrable?: boolean
}

export type BackendKind = 'pglite' | 'postgres'

export interface Backend {
  readonly kind: BackendKind
  query(sql: string, params: readonly SqlParam[]): Promise<StatementResult>
  /** One transaction: the first failing statement rolls the whole batch back and is thrown. */
  batch(statements: readonly Statement[], options?: BatchOptions): Promise<StatementResult[]>
  close(): Promise<void>
}

/** The fields @neondatabase/serverless copies from a 400 body onto NeonDbError. */
export const POSTGRES_ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const

export type PostgresErrorField = (typeof POSTGRES_ERROR_FIELDS)[number]
export type PostgresErrorFields = Partial<Record<PostgresErrorField, string>>

/** An error reported by the database server itself; it leaves the endpoint as HTTP 400. */
export class PostgresError extends Error {
  override readonly name = 'PostgresError'
  readonly fields: PostgresErrorFields

  constructor(message: string, fields: PostgresErrorFields, options?: ErrorOptions) {
    super(message, options)
    this.fields = fields
  }
}

/** The database could not be reached or its session broke; it leaves the endpoint as HTTP 502. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError'
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/**
 * Recognises a server error by shape, not class: pg throws its own DatabaseError while the
 * PGlite adapter forwards PGlite's, and the two share no prototype.
 */
export function asPostgresError(error: unknown): PostgresError | undefined {
  if (error instanceof PostgresError) return error
  if (!(error instanceof Error)) return undefined

  const code: unknown = Reflect.get(error, 'code')
  const severity: unknown = Reflect.get(error, 'severity')
  if (typeof code !== 'string' || !SQLSTATE.test(code) || typeof severity !== 'string') {
    return undefined
  }

  const fields: PostgresErrorFields = {}
  for (const name of POSTGRES_ERROR_FIELDS) {
    const value: unknown = Reflect.get(error, name)
    if (typeof value === 'string') fields[name] = value
  }
  return new PostgresError(error.message, fields, { cause: error })
}

const ISOLATION_SQL: Record<IsolationLevel, string> = {
  ReadUncommitted: 'ISOLATION LEVEL READ UNCOMMITTED',
  ReadCommitted: 'ISOLATION LEVEL READ COMMITTED',
  RepeatableRead: 'ISOLATION LEVEL REPEATABLE READ',
  Serializable: 'ISOLATION LEVEL SERIALIZABLE',
}

/** Builds BEGIN only from fixed fragments, so no header text ever reaches the SQL. */
export function beginStatement(options: BatchOptions = {}): string {
  const modes: string[] = []
  if (options.isolationLevel !== undefined) modes.push(ISOLATION_SQL[options.isolationLevel])
  if (options.readOnly !== undefined) modes.push(options.readOnly ? 'READ ONLY' : 'READ WRITE')
  if (options.deferrable !== undefined) {
    modes.push(options.deferrable ? 'DEFERRABLE' : 'NOT DEFERRABLE')
  }
  return modes.length === 0 ? 'BEGIN' : `BEGIN ${modes.join(', ')}`
}

function keepText(value: string): string {
  return value
}

/** Set on the Pool or Client, never per query: the PGlite adapter crashes on per-query types. */
export const RAW_TEXT_TYPES = { getTypeParser: () => keepText }

type ArrayQuery = QueryArrayConfig<SqlParam[]> & { queryMode: 'extended' }

function describeField(field: FieldDef): FieldDescription {
  return {
    name: field.name,
    tableID: field.tableID,
    columnID: field.columnID,
    dataTypeID: field.dataTypeID,
    dataTypeSize: field.dataTypeSize,
    dataTypeModifier: field.dataTypeModifier,
    format: 'text',
  }
}

function textCell(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  throw new Error(`backend returned a parsed ${typeof value}; raw text parsers are not in effect`)
}

/**
 * Runs exactly one statement. The extended protocol is forced even without parameters so a
 * string holding several statements fails with 42601, as a prepared statement does on Neon.
 */
export async function runPgStatement(
  client: ClientBase,
  statement: Statement,
): Promise<StatementResult> {
  const config: ArrayQuery = {
    text: statement.query,
    values: [...statement.params],
    rowMode: 'array',
    queryMode: 'extended',
  }
  const result: QueryArrayResult<unknown[]> = await client.query(config)

  return {
    fields: result.fields.map(describeField),
    rows: result.rows.map((row) => row.map(textCell)),
    command: result.command,
    rowCount: result.rowCount,
  }
}

/** Runs a statement, turning server errors into PostgresError and anything else into 502s. */
export async function runPgStatementMapped(
  client: ClientBase,
  statement: Statement,
): Promise<StatementResult> {
  try {
    return await runPgStatement(client, statement)
  } catch (error) {
    throw asPostgresError(error) ?? unavailable(error)
  }
}

function unavailable(error: unknown): BackendUnavailableError {
  const message = error instanceof Error ? error.message : String(error)
  return new BackendUnavailableError(`database session failed: ${message}`, { cause: error })
}

/**
 * Runs a batch as one transaction on one session. A PostgresError leaves the session usable
 * (after ROLLBACK); any other error means the caller must discard the session.
 */
export async function runPgBatch(
  client: ClientBase,
  statements: readonly Statement[],
  options: BatchOptions = {},
): Promise<StatementResult[]> {
  await runPgStatementMapped(client, { query: beginStatement(options), params: [] })

  const results: StatementResult[] = []
  try {
    for (const statement of statements) {
      results.push(await runPgStatementMapped(client, statement))
    }
  } catch (error) {
    await rollback(client, error)
    throw error
  }

  // A failing COMMIT (deferred constraint, serialization failure) has already rolled back.
  await runPgStatementMapped(client, { query: 'COMMIT', params: [] })
  return results
}

async function rollback(client: ClientBase, original: unknown): Promise<void> {
  try {
    await runPgStatement(client, { query: 'ROLLBACK', params: [] })
  } catch (rollbackError) {
    throw new BackendUnavailableError('ROLLBACK failed after a batch error', {
      cause: new AggregateError([original, rollbackError]),
    })
  }
}
