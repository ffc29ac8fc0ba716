import { type SQL, sql } from 'drizzle-orm'

/** Columns a PATCH may set: JSON field → column and SQL type (fixed strings, never input). */
export type Editable = Record<string, readonly [column: string, type: string]>

/**
 * The pieces of a partial update, for the fields the caller sent: the `set` list, the old
 * (`p.` = the locked prior row) and new values as jsonb for the activity event, and a test
 * that something actually differs, so an update to the same values is no change at all.
 */
export function editsOf(fields: Record<string, unknown>, columns: Editable) {
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => {
      const spec = columns[field]
      if (spec === undefined) throw new Error(`not editable: ${field}`)
      const column = sql.raw(spec[0])
      return { field, column, value: sql`${value ?? null}::${sql.raw(spec[1])}` }
    })
  const list = (each: (part: (typeof parts)[number]) => SQL) => sql.join(parts.map(each), sql`, `)
  const object = (each: (part: (typeof parts)[number]) => SQL) =>
    sql`jsonb_build_object(${list((part) => sql`${part.field}::text, ${each(part)}`)})`
  return {
    set: list((part) => sql`${part.column} = ${part.value}`),
    before: object((part) => sql`p.${part.column}`),
    after: object((part) => part.value),
    differs: sql`(${list((part) => sql`p.${part.column}`)})
      is distinct from (${list((part) => part.value)})`,
  }
}
