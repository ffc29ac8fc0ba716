import { z } from '@hono/zod-openapi'
import { type AnyColumn, type SQL, sql } from 'drizzle-orm'
import { ApiError } from './errors'

/**
 * Keyset pagination: a page ends with an opaque cursor holding the sort key of its last row;
 * the next page asks for rows strictly after it. Stable under inserts, no OFFSET scans.
 */
export const maxPageSize = 100

export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxPageSize)
    .default(50)
    .openapi({ description: `Rows per page, 1 to ${maxPageSize}` }),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .openapi({ description: 'Opaque: the `nextCursor` of the previous page' }),
})

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().openapi({ description: 'Null on the last page' }),
  })

export const encodeCursor = (keys: readonly string[]) => {
  const bytes = new TextEncoder().encode(JSON.stringify(keys))
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
}

const badCursor = () =>
  new ApiError('validation_failed', {
    detail: 'The cursor is not one this list handed out.',
    errors: [{ path: 'query.cursor', message: 'Invalid cursor', code: 'invalid_cursor' }],
  })

/**
 * The keys inside a cursor, checked against `shape` so a forged cursor is a 400, never a
 * failed cast inside the database.
 */
export function decodeCursor<T extends z.ZodType<readonly string[]>>(
  cursor: string | undefined,
  shape: T,
): z.infer<T> | undefined {
  if (cursor === undefined) return undefined
  let keys: unknown
  try {
    const binary = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'))
    keys = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))))
  } catch {
    throw badCursor()
  }
  const parsed = shape.safeParse(keys)
  if (!parsed.success) throw badCursor()
  return parsed.data
}

/** Rows are fetched with `limit + 1`; the extra row only proves there is a next page. */
export function takePage<T>(
  rows: readonly T[],
  limit: number,
  keysOf: (row: T) => readonly string[],
) {
  const data = rows.slice(0, limit)
  const last = data.at(-1)
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(keysOf(last)) : null
  return { data, nextCursor }
}

/**
 * A timestamp as a keyset key: whole microseconds since the epoch, so the key is exact
 * (a JS Date would drop Postgres's microseconds and repeat or skip rows at page edges).
 */
export const timestampKey = (column: AnyColumn | SQL) =>
  sql<string>`(extract(epoch from ${column}) * 1000000)::bigint::text`

export const timestampFromKey = (key: string) =>
  sql`(timestamptz 'epoch' + ${key}::bigint * interval '1 microsecond')`

/** Cursor keys for lists ordered by (created_at, id). */
export const createdKeys = z.tuple([z.string().regex(/^-?\d{1,18}$/), z.uuid()])

/**
 * `(a, b, …) > (x, y, …)` (or `<` for descending lists): rows strictly past the cursor,
 * compared as a row so ties on the first key fall through to the next.
 */
export function keysetAfter(
  pairs: ReadonlyArray<readonly [AnyColumn | SQL, SQL]>,
  direction: 'asc' | 'desc' = 'asc',
): SQL {
  const columns = sql.join(pairs.map(([column]) => sql`${column}`), sql`, `)
  const values = sql.join(pairs.map(([, value]) => value), sql`, `)
  return sql`(${columns}) ${sql.raw(direction === 'asc' ? '>' : '<')} (${values})`
}

/** Rows after a `createdKeys` cursor in a list ordered by (created_at, id). */
export function afterCreated(
  createdAt: AnyColumn,
  id: AnyColumn,
  keys: readonly [string, string] | undefined,
  direction: 'asc' | 'desc' = 'asc',
): SQL | undefined {
  if (keys === undefined) return undefined
  return keysetAfter(
    [
      [createdAt, timestampFromKey(keys[0])],
      [id, sql`${keys[1]}::uuid`],
    ],
    direction,
  )
}
