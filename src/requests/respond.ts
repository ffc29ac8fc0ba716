import { type SQL, sql } from 'drizzle-orm'
import { ApiError, notFound } from '../platform/errors'
import { bodyTag, isNotModified, notModified, quoteTag } from '../platform/etag'
import type { AppContext } from '../platform/hono'
import type { Caller } from './guards'
import { gatedOne, type ListQuery, type ListRow, listPage, type OneRow, pageFrom } from './queries'

/** "A sent request", "An open item": the article for a status word in a message. */
export const withArticle = (word: string | null) =>
  `${/^[aeiou]/i.test(word ?? '') ? 'An' : 'A'} ${word}`

export const rowsOf = <Row>(result: { rows: unknown[] }) => result.rows as Row[]

/** A refusal the guard did not explain (it always should): never let it pass as success. */
export function refuse(caller: Caller, standing: unknown): never {
  caller.assert(standing)
  throw new ApiError('unauthorized', { detail: 'The caller may not do this.' })
}

/** One resource: 401/403 from the stored caller, 404, 304 for a matching ETag, else 200. */
export async function readOne<Body, Out>(
  c: AppContext,
  caller: Caller,
  row: SQL,
  what: string,
  present: (body: Body) => Out,
) {
  const result = await c.var.db.execute(gatedOne(caller, row))
  const first = rowsOf<OneRow<Body>>(result)[0]
  if (first === undefined || !first.allowed) refuse(caller, first?.standing ?? null)
  if (first.body === null || first.etag === null) throw notFound(what)

  const tag = quoteTag(first.etag)
  if (isNotModified(c, tag)) return notModified(c, tag)
  return c.json(present(first.body), 200, { etag: tag })
}

/** One page of a list, with an ETag over the page so a poll can be answered 304. */
export async function readPage<Body, Out>(
  c: AppContext,
  caller: Caller,
  query: Omit<ListQuery, 'gate'>,
  present: (body: Body) => Out,
  parent = 'request',
) {
  const result = await c.var.db.execute(listPage({ ...query, gate: caller }))
  const rows = rowsOf<ListRow<Body>>(result)
  const first = rows[0]
  if (first === undefined || !first.allowed) refuse(caller, first?.standing ?? null)
  if (!first.found) throw notFound(parent)

  const page = pageFrom(rows, query.order, query.limit)
  const text = JSON.stringify({ data: page.data.map(present), nextCursor: page.nextCursor })
  const tag = await bodyTag(text)
  if (isNotModified(c, tag)) return notModified(c, tag)
  return c.body(text, 200, { 'content-type': 'application/json', etag: tag })
}

/** Outcome row of a write: caller standing, whether it happened, and the resource after. */
export const outcomeOf = (caller: Caller, done: SQL, resource: SQL, extra: SQL = sql``) => sql`
  select ${caller.standing} as standing, ${done} as done, x.body, x.etag ${extra}
  from (select 1) one left join lateral (${resource}) x on true`

export interface WriteOutcome<Body> {
  standing: unknown
  done: boolean
  body: Body | null
  etag: string | null
}

/** After a write that did not happen: the caller's refusal first, then a missing target. */
export function explainRefusal(caller: Caller, outcome: WriteOutcome<unknown>, what: string) {
  caller.assert(outcome.standing)
  if (outcome.body === null) throw notFound(what)
}

export const unprocessable = (path: string, message: string) =>
  new ApiError('unprocessable', {
    detail: message,
    errors: [{ path, message, code: 'not_found' }],
  })

export const etagHeader = (etag: string | null): Record<string, string> =>
  etag === null ? {} : { etag: quoteTag(etag) }
