import { z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import { viewTag } from '../platform/etag'
import { decodeCursor, takePage, timestampFromKey, timestampKey } from '../platform/pagination'

/**
 * The JSON views of requests, items, comments and events, built by Postgres. Reads, write
 * outcomes and stored idempotent responses all use these, so one resource has one shape
 * everywhere, related names and progress come in the same statement (no N+1), and the ETag
 * is the md5 of exactly what is sent. Fixed table aliases: requests `r`, request_items `i`,
 * comments `cm`, activity_events `ev`.
 */

/** RFC 3339 in UTC with Postgres's full microseconds, so a value can be sent back exactly. */
export const iso = (expr: SQL) =>
  sql`to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

const day = (expr: SQL) => sql`to_char(${expr}, 'YYYY-MM-DD')`

/** Requests that can still change; completed and cancelled ones are closed. */
export const openRequestStatuses = sql.raw(`('draft', 'sent', 'in_progress')`)

/** Counts per item status of a request's live items: one aggregate over an index. */
export const progressOf = (requestId: SQL) => sql`(
  select jsonb_build_object(
    'open', count(*) filter (where pi.status = 'open'),
    'submitted', count(*) filter (where pi.status = 'submitted'),
    'accepted', count(*) filter (where pi.status = 'accepted'),
    'returned', count(*) filter (where pi.status = 'returned'),
    'total', count(*))
  from request_items pi where pi.request_id = ${requestId} and pi.deleted_at is null)`

const overdue = sql`coalesce(r.due_date < current_date and r.status in ${openRequestStatuses},
  false)`

export const requestView = sql`jsonb_build_object(
  'id', r.id,
  'title', r.title,
  'description', r.description,
  'status', r.status,
  'priority', r.priority,
  'dueDate', ${day(sql`r.due_date`)},
  'overdue', ${overdue},
  'client', (select jsonb_build_object('id', rc.id, 'name', rc.name)
    from clients rc where rc.id = r.client_id),
  'assignee', (select jsonb_build_object('id', ra.id, 'name', ra.name)
    from users ra where ra.id = r.assignee_id),
  'progress', ${progressOf(sql`r.id`)},
  'revision', r.revision,
  'sentAt', ${iso(sql`r.sent_at`)},
  'completedAt', ${iso(sql`r.completed_at`)},
  'cancelledAt', ${iso(sql`r.cancelled_at`)},
  'createdAt', ${iso(sql`r.created_at`)},
  'updatedAt', ${iso(sql`r.updated_at`)},
  'deletedAt', ${iso(sql`r.deleted_at`)})`

/** What a client contact sees of a request: no assignee, no internal bookkeeping. */
export const portalRequestView = sql`jsonb_build_object(
  'id', r.id,
  'title', r.title,
  'description', r.description,
  'status', r.status,
  'priority', r.priority,
  'dueDate', ${day(sql`r.due_date`)},
  'overdue', ${overdue},
  'progress', ${progressOf(sql`r.id`)},
  'sentAt', ${iso(sql`r.sent_at`)},
  'completedAt', ${iso(sql`r.completed_at`)},
  'updatedAt', ${iso(sql`r.updated_at`)})`

// An item without its own due date is due with its request.
const itemDue = sql`coalesce(i.due_date,
  (select ir.due_date from requests ir where ir.id = i.request_id))`

export const itemView = sql`jsonb_build_object(
  'id', i.id,
  'requestId', i.request_id,
  'reference', i.reference,
  'section', i.section,
  'title', i.title,
  'description', i.description,
  'status', i.status,
  'returnReason', i.return_reason,
  'dueDate', ${day(itemDue)},
  'ownDueDate', i.due_date is not null,
  'priority', i.priority,
  'position', i.position,
  'revision', i.revision,
  'createdAt', ${iso(sql`i.created_at`)},
  'updatedAt', ${iso(sql`i.updated_at`)},
  'deletedAt', ${iso(sql`i.deleted_at`)})`

export const portalItemView = sql`jsonb_build_object(
  'id', i.id,
  'requestId', i.request_id,
  'reference', i.reference,
  'section', i.section,
  'title', i.title,
  'description', i.description,
  'status', i.status,
  'returnReason', i.return_reason,
  'dueDate', ${day(itemDue)},
  'updatedAt', ${iso(sql`i.updated_at`)})`

/** `{type, id, name}` of a user, contact or the system, by the columns that record it. */
const personOf = (type: SQL, id: SQL) => sql`jsonb_build_object(
  'type', ${type},
  'id', ${id},
  'name', case ${type}
    when 'user' then (select pu.name from users pu where pu.id = ${id})
    when 'contact' then (select pc.name from client_contacts pc where pc.id = ${id})
  end)`

const commentFields = sql`
  'id', cm.id,
  'requestId', cm.request_id,
  'itemId', cm.item_id,
  'body', cm.body,
  'author', ${personOf(sql`cm.author_type`, sql`cm.author_id`)},
  'createdAt', ${iso(sql`cm.created_at`)}`

export const commentView = sql`jsonb_build_object(${commentFields}, 'internal', cm.internal)`

export const portalCommentView = sql`jsonb_build_object(${commentFields})`

export const eventView = sql`jsonb_build_object(
  'id', ev.id,
  'requestId', ev.request_id,
  'itemId', ev.item_id,
  'action', ev.action,
  'actor', ${personOf(sql`ev.actor_type`, sql`ev.actor_id`)},
  'before', ev.before,
  'after', ev.after,
  'createdAt', ${iso(sql`ev.created_at`)})`

/** The request row `r` by id within the organization (live rows only). */
export const requestIs = (organizationId: string, requestId: string) =>
  sql`r.id = ${requestId}::uuid and r.organization_id = ${organizationId}::uuid
    and r.deleted_at is null`

export const itemIs = (organizationId: string, requestId: string, itemId: string) =>
  sql`i.id = ${itemId}::uuid and i.request_id = ${requestId}::uuid
    and i.organization_id = ${organizationId}::uuid and i.deleted_at is null`

/** `{ body, etag }` of one live request, or no row. */
export const requestById = (organizationId: string, requestId: string) => sql`
  select v.body, ${viewTag(sql`v.body`)} as etag
  from requests r cross join lateral (select ${requestView} as body) v
  where ${requestIs(organizationId, requestId)}`

export const itemById = (organizationId: string, requestId: string, itemId: string) => sql`
  select v.body, ${viewTag(sql`v.body`)} as etag
  from request_items i cross join lateral (select ${itemView} as body) v
  where ${itemIs(organizationId, requestId, itemId)}`

/** The view of one request as a jsonb scalar subquery, for outcomes and stored responses. */
export const requestBody = (organizationId: string, requestId: string) =>
  sql`(select ${requestView} from requests r where ${requestIs(organizationId, requestId)})`

export const itemBody = (organizationId: string, requestId: string, itemId: string) =>
  sql`(select ${itemView} from request_items i
    where ${itemIs(organizationId, requestId, itemId)})`

/** True once the event with this (app-chosen) id exists: the marker that a change happened. */
export const eventExists = (eventId: string) =>
  sql`exists (select 1 from activity_events where id = ${eventId}::uuid)`

/** ILIKE pattern for a substring, with the user's `%`, `_` and `\` taken literally. */
export const containing = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`

/** The caller as a read sees it: may it read, and its stored state to explain a refusal. */
export interface ReadGate {
  holds: SQL
  standing: SQL
}

/**
 * A single-row read gated by the caller's standing: always one row, with `body` only when
 * the caller may read, so "no access" and "not found" are told apart in the same query.
 */
export const gatedOne = (gate: ReadGate, row: SQL) => sql`
  select g.allowed, g.standing, x.body, x.etag
  from (select ${gate.holds} as allowed, ${gate.standing} as standing) g
  left join lateral (${row}) x on g.allowed`

export interface OneRow<Body> {
  allowed: boolean
  standing: unknown
  body: Body | null
  etag: string | null
}

export type SortKind = 'timestamp' | 'date' | 'integer'

/** One list ordering: a column, how its cursor key is written, and its direction. */
export interface ListOrder {
  /** Name carried in the cursor, so a cursor from another ordering is refused. */
  name: string
  column: SQL
  kind: SortKind
  nullable: boolean
  direction: 'asc' | 'desc'
  /** The row id, the tie-breaker. */
  id: SQL
}

/** A request's items as the auditor arranged them. */
export const itemsInListOrder: ListOrder = {
  name: 'position',
  column: sql`i.position`,
  kind: 'integer',
  nullable: false,
  direction: 'asc',
  id: sql`i.id`,
}

const keyOf = (order: ListOrder) => {
  if (order.kind === 'timestamp') return timestampKey(order.column)
  if (order.kind === 'date') return sql`to_char(${order.column}, 'YYYY-MM-DD')`
  return sql`${order.column}::text`
}

const valueOf = (kind: SortKind, key: string) => {
  if (kind === 'timestamp') return timestampFromKey(key)
  if (kind === 'date') return sql`${key}::date`
  return sql`${key}::integer`
}

const keyShapes: Record<SortKind, z.ZodString> = {
  timestamp: z.string().regex(/^-?\d{1,18}$/),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  integer: z.string().regex(/^-?\d{1,10}$/),
}

/** The cursor's keys for this ordering; `''` stands for a null sort value. */
export function cursorFor(order: ListOrder, cursor: string | undefined) {
  const shape = keyShapes[order.kind]
  const key = order.nullable ? z.union([shape, z.literal('')]) : shape
  const keys = decodeCursor(cursor, z.tuple([z.literal(order.name), key, z.uuid()]))
  if (keys === undefined) return undefined
  return { key: keys[1] === '' ? null : keys[1], id: keys[2] }
}

/**
 * Rows strictly after the cursor. Postgres puts nulls last ascending and first descending,
 * and the indexes are built that way, so nullable keys follow the same rule.
 */
function after(order: ListOrder, keys: { key: string | null; id: string }): SQL {
  const ascending = order.direction === 'asc'
  const past = sql.raw(ascending ? '>' : '<')
  const id = sql`${keys.id}::uuid`
  if (keys.key === null) {
    const tail = sql`(${order.column} is null and ${order.id} ${past} ${id})`
    return ascending ? tail : sql`(${tail} or ${order.column} is not null)`
  }
  const value = valueOf(order.kind, keys.key)
  const beyond = sql`(${order.column}, ${order.id}) ${past} (${value}, ${id})`
  return ascending && order.nullable ? sql`(${beyond} or ${order.column} is null)` : beyond
}

const orderBy = (order: ListOrder, column: SQL, id: SQL) => {
  const direction = sql.raw(order.direction)
  return sql`${column} ${direction}, ${id} ${direction}`
}

export interface ListQuery {
  gate: ReadGate
  /** SQL boolean: the parent exists (a nested list of a missing request is a 404). */
  found?: SQL
  view: SQL
  /** `from … [join …]` of the listed rows. */
  from: SQL
  where: SQL[]
  order: ListOrder
  cursor: { key: string | null; id: string } | undefined
  limit: number
}

/**
 * One page in one statement. Always one row for the gate; the page's rows come through a
 * lateral join ordered again outside it (a join does not promise to keep the inner order).
 * One row more than the page is read, to know whether there is a next page.
 */
export function listPage(query: ListQuery): SQL {
  const { order } = query
  const conditions = [...query.where, ...(query.cursor ? [after(order, query.cursor)] : [])]
  return sql`
    select g.allowed, g.standing, g.found, x.body, x.sort_key, x.row_id
    from (select ${query.gate.holds} as allowed, ${query.gate.standing} as standing,
      ${query.found ?? sql`true`} as found) g
    left join lateral (
      select ${query.view} as body, ${order.column} as sort_value, ${keyOf(order)} as sort_key,
        ${order.id} as row_id
      ${query.from}
      where g.allowed and g.found and ${sql.join(conditions, sql` and `)}
      order by ${orderBy(order, order.column, order.id)}
      limit ${query.limit + 1}
    ) x on true
    order by ${orderBy(order, sql`x.sort_value`, sql`x.row_id`)}`
}

export interface ListRow<Body> {
  allowed: boolean
  standing: unknown
  found: boolean
  body: Body | null
  sort_key: string | null
  row_id: string | null
}

/** The page from `listPage`'s rows; throws nothing, the caller checks `allowed`/`found`. */
export function pageFrom<Body>(rows: ListRow<Body>[], order: ListOrder, limit: number) {
  const present = rows.filter((row) => row.body !== null)
  const page = takePage(present, limit, (row) => [order.name, row.sort_key ?? '', row.row_id ?? ''])
  return { data: page.data.map((row) => row.body as Body), nextCursor: page.nextCursor }
}
