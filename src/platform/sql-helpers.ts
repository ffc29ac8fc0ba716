import { getTableColumns, is, SQL, sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'
import type { Database } from './database'

/**
 * `INSERT … SELECT <values> WHERE <condition>`: an insert that happens only if a condition
 * holds in the same statement, e.g. that the acting user still has the role. Returns a
 * normal drizzle insert, so `.returning()` maps columns as usual. Omitted columns take
 * their schema default (or null); every value is cast to its column's type, because
 * Postgres types a bare parameter in a select list as text.
 */
export function insertWhere<T extends PgTable>(
  db: Database,
  table: T,
  values: { [K in keyof T['$inferInsert']]: T['$inferInsert'][K] | SQL },
  condition: SQL,
) {
  const given = values as Record<string, unknown>
  const selected = Object.entries(getTableColumns(table))
    .filter(([, column]) => column.generated === undefined)
    .map(([key, column]) => {
      const type = sql.raw(column.getSQLType())
      const value = given[key]
      if (is(value, SQL)) return value
      if (value !== undefined) return sql`${sql.param(value, column)}::${type}`
      const fallback = column.defaultFn ? column.defaultFn() : column.default
      if (is(fallback, SQL)) return fallback
      if (fallback !== undefined) return sql`${sql.param(fallback, column)}::${type}`
      return sql`null::${type}`
    })
  return db.insert(table).select(sql`select ${sql.join(selected, sql`, `)} where ${condition}`)
}

/** `now() + n seconds`, on the database's clock so every row of a batch agrees. */
export const secondsFromNow = (seconds: number) =>
  sql`(now() + ${seconds}::integer * interval '1 second')`

export const secondsAgo = (seconds: number) =>
  sql`(now() - ${seconds}::integer * interval '1 second')`

/**
 * Rows of a raw `db.execute` (alone or in a batch): the driver returns the full result, and
 * the caller names the row type, so select camelCase aliases. Timestamps arrive as
 * Postgres text (drizzle's global parsers), so select them through `isoTimestamp`.
 */
export function rawRows<T>(result: unknown): T[] {
  const rows = typeof result === 'object' && result !== null && 'rows' in result && result.rows
  if (Array.isArray(rows)) return rows as T[]
  throw new Error('unexpected raw query result')
}

/** A timestamptz as the ISO 8601 text JSON responses use, for raw queries. */
export const isoTimestamp = (value: SQL) =>
  sql<string>`to_char(${value} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
