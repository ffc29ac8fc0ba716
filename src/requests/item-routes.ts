import { createRoute, z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import type { StaffPrincipal } from '../auth/principal'
import { requireStaff, staffOf } from '../auth/middleware'
import { cacheRequestView } from '../cache/middleware'
import { isUniqueViolation } from '../platform/database'
import { ApiError, notFound } from '../platform/errors'
import {
  IfMatchHeader,
  IfNoneMatchHeader,
  type Precondition,
  precondition,
  preconditionFailed,
  preconditionFails,
  preconditionHolds,
  viewTag,
} from '../platform/etag'
import { createRouter } from '../platform/hono'
import {
  executeWrite,
  IdempotencyHeader,
  type IdempotencyKey,
  idempotencyKeyOf,
  replayedHeaders,
  type WritePlan,
} from '../platform/idempotency'
import {
  jsonBody,
  jsonResponse,
  missingOnBadPath,
  problems,
  staffSecurity,
  uuidParam,
} from '../platform/openapi'
import { pageOf } from '../platform/pagination'
import type { AppContext } from '../platform/hono'
import { editsOf } from './edits'
import { type Caller, staffCaller, staffReader } from './guards'
import {
  containing,
  cursorFor,
  eventExists,
  itemBody,
  itemIs,
  itemsInListOrder,
  itemView,
  type ListOrder,
  requestIs,
} from './queries'
import {
  etagHeader,
  outcomeOf,
  readOne,
  readPage,
  withArticle,
  type WriteOutcome,
} from './respond'
import {
  CreateItemBody,
  ItemListQuery,
  ItemSchema,
  ItemSyncQuery,
  ReturnItemBody,
  UpdateItemBody,
} from './schemas'
import {
  itemsChangeableIn,
  itemsReviewableIn,
  itemTransitionStatement,
  lockRequest,
} from './transitions'

type ItemView = z.infer<typeof ItemSchema>
const present = (body: unknown) => ItemSchema.parse(body)

const tags = ['Items']
const requestParams = z.object({ id: uuidParam('id') })
const itemParams = z.object({ id: uuidParam('id'), itemId: uuidParam('itemId') })

const byUpdated = (direction: 'asc' | 'desc'): ListOrder => ({
  name: direction === 'asc' ? 'updatedAt' : '-updatedAt',
  column: sql`i.updated_at`,
  kind: 'timestamp',
  nullable: false,
  direction,
  id: sql`i.id`,
})

/**
 * Filters both item lists share; `updatedSince` turns a list into a sync with tombstones.
 * Known limit: `updated_at` is the writing transaction's start, so a batch still running when
 * a sync reads can commit an instant older than one already seen; batches last milliseconds,
 * and clients that must never miss one ask from a few seconds before their newest instant.
 */
function itemFilters(query: z.infer<typeof ItemListQuery>): SQL[] {
  const where: SQL[] = [
    query.updatedSince === undefined
      ? sql`i.deleted_at is null`
      : sql`i.updated_at >= ${query.updatedSince}::timestamptz`,
  ]
  if (query.status) where.push(sql`i.status in ${query.status}`)
  if (query.q) {
    const pattern = containing(query.q)
    where.push(sql`(i.reference ilike ${pattern} or i.title ilike ${pattern})`)
  }
  return where
}

const list = createRoute({
  method: 'get',
  path: '/v1/requests/{id}/items',
  tags,
  summary: 'Items of a request in list order; `updatedSince` includes deleted items',
  middleware: [requireStaff('member'), cacheRequestView()] as const,
  security: staffSecurity,
  request: { params: requestParams, query: ItemListQuery, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(pageOf(ItemSchema), 'A page of items'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401, 404),
  },
})

const sync = createRoute({
  method: 'get',
  path: '/v1/items',
  tags,
  summary: 'Items across requests, by last change: the feed for mobile sync',
  description:
    'Pass the greatest `updatedAt` you hold as `updatedSince`: changed items come back, and ' +
    'deleted ones as tombstones (`deletedAt` set). Rows equal to the instant are sent again. ' +
    'A change still committing while you read may carry a slightly older instant: to never ' +
    'miss one, ask from a few seconds before your newest `updatedAt` (repeats are harmless).',
  middleware: [requireStaff('member')] as const,
  security: staffSecurity,
  request: { query: ItemSyncQuery, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(pageOf(ItemSchema), 'A page of items'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401),
  },
})

const create = createRoute({
  method: 'post',
  path: '/v1/requests/{id}/items',
  tags,
  summary: 'Add an item to an open request (the reference is unique in the request)',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: requestParams, body: jsonBody(CreateItemBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(ItemSchema, 'Created (or replayed: `Idempotent-Replayed: true`)'),
    ...problems(400, 401, 403, 404, 409, 415, 422),
  },
})

const read = createRoute({
  method: 'get',
  path: '/v1/requests/{id}/items/{itemId}',
  tags,
  summary: 'One item; ETag / If-None-Match',
  middleware: [requireStaff('member')] as const,
  security: staffSecurity,
  request: { params: itemParams, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(ItemSchema, 'The item'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(401, 404),
  },
})

const update = createRoute({
  method: 'patch',
  path: '/v1/requests/{id}/items/{itemId}',
  tags,
  summary: 'Edit an item (not its status: see accept / return)',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: itemParams, body: jsonBody(UpdateItemBody), headers: IfMatchHeader },
  responses: {
    200: jsonResponse(ItemSchema, 'The item after the change'),
    ...problems(400, 401, 403, 404, 409, 412, 415),
  },
})

const remove = createRoute({
  method: 'delete',
  path: '/v1/requests/{id}/items/{itemId}',
  tags,
  summary: 'Delete an item (soft: syncs see a tombstone)',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: itemParams, headers: IfMatchHeader },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 409, 412) },
})

const reviewHeaders = IdempotencyHeader.extend(IfMatchHeader.shape)

const accept = createRoute({
  method: 'post',
  path: '/v1/requests/{id}/items/{itemId}/accept',
  tags,
  summary: 'Accept a submitted item',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: itemParams, headers: reviewHeaders },
  responses: {
    200: jsonResponse(ItemSchema, 'The accepted item'),
    ...problems(401, 403, 404, 409, 412, 422),
  },
})

const giveBack = createRoute({
  method: 'post',
  path: '/v1/requests/{id}/items/{itemId}/return',
  tags,
  summary: 'Return a submitted item to the client with a reason',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: itemParams, body: jsonBody(ReturnItemBody), headers: reviewHeaders },
  responses: {
    200: jsonResponse(ItemSchema, 'The returned item'),
    ...problems(400, 401, 403, 404, 409, 412, 415, 422),
  },
})

const editable = {
  reference: ['reference', 'text'],
  section: ['section', 'text'],
  title: ['title', 'text'],
  description: ['description', 'text'],
  dueDate: ['due_date', 'date'],
  priority: ['priority', 'priority'],
  position: ['position', 'integer'],
} as const

interface ItemOutcome extends WriteOutcome<ItemView> {
  item_status: ItemView['status'] | null
  request_status: string | null
  reference_taken: boolean
}

/** After-state of an item write, with what is needed to explain a refusal. */
function itemOutcome(
  caller: Caller,
  staff: StaffPrincipal,
  ids: { requestId: string; itemId: string },
  eventId: string,
  reference: string | undefined,
) {
  const org = staff.organizationId
  const taken =
    reference === undefined
      ? sql`false`
      : sql`exists (select 1 from request_items ti where ti.request_id = ${ids.requestId}::uuid
          and ti.reference = ${reference}::text and ti.deleted_at is null
          and ti.id <> ${ids.itemId}::uuid)`
  return outcomeOf(
    caller,
    eventExists(eventId),
    sql`select i.status as item_status, v.body, ${viewTag(sql`v.body`)} as etag
      from request_items i cross join lateral (select ${itemView} as body) v
      where ${itemIs(org, ids.requestId, ids.itemId)}`,
    sql`, x.item_status,
      (select r.status from requests r where ${requestIs(org, ids.requestId)}) as request_status,
      ${taken} as reference_taken`,
  )
}

const duplicateReference = (reference: string | undefined) =>
  new ApiError('conflict', {
    detail: `The request already has a live item with reference ${reference ?? ''}.`,
    errors: [{ path: 'body.reference', message: 'Reference in use', code: 'duplicate' }],
  })

/** Why an item write did not happen, in the order a client can act on. */
function explainItem(caller: Caller, outcome: ItemOutcome, wanted: Precondition) {
  caller.assert(outcome.standing)
  if (outcome.request_status === null) throw notFound('request')
  if (outcome.body === null) throw notFound('item')
  if (preconditionFails(wanted, outcome.etag)) throw preconditionFailed()
}

const closedRequest = (status: string | null) =>
  new ApiError('conflict', { detail: `The request is ${status}; its items cannot change.` })

/** The batch, with the one constraint a racing writer can still hit mapped to 409. */
async function runItemWrite(c: AppContext, plan: WritePlan, reference: string | undefined) {
  try {
    return await executeWrite<ItemOutcome>(c.var.db, plan)
  } catch (error) {
    if (isUniqueViolation(error, 'request_items_request_reference_key')) {
      throw duplicateReference(reference)
    }
    throw error
  }
}

async function review(
  c: AppContext,
  ids: { requestId: string; itemId: string },
  to: 'accepted' | 'returned',
  reason: string | null,
  key: IdempotencyKey | undefined,
) {
  const staff = staffOf(c)
  const caller = staffCaller(c.var.db, staff, 'manager')
  const wanted = precondition(c)
  const eventId = crypto.randomUUID()
  const actor = { type: 'user' as const, id: staff.userId, organizationId: staff.organizationId }

  const result = await runItemWrite(
    c,
    {
      key,
      allowed: caller.holds,
      change: (gate) => [
        lockRequest(staff.organizationId, ids.requestId),
        itemTransitionStatement({ actor, ...ids, to, reason, eventId, gate, precondition: wanted }),
      ],
      done: eventExists(eventId),
      response: { status: 200, body: itemBody(staff.organizationId, ids.requestId, ids.itemId) },
      outcome: itemOutcome(caller, staff, ids, eventId, undefined),
    },
    undefined,
  )
  if (result.replay) return c.json(present(result.replay.body), 200, replayedHeaders)

  const outcome = result.outcome
  if (!outcome.done) {
    explainItem(caller, outcome, wanted)
    const reviewable: readonly string[] = itemsReviewableIn
    if (!reviewable.includes(outcome.request_status ?? '')) {
      throw new ApiError('invalid_transition', {
        detail: `Items of a ${outcome.request_status} request cannot be reviewed.`,
      })
    }
    throw new ApiError('invalid_transition', {
      detail: `${withArticle(outcome.item_status)} item cannot be ${to}; only submitted items can.`,
      extensions: { status: outcome.item_status, to },
    })
  }
  return c.json(present(outcome.body), 200, etagHeader(outcome.etag))
}

const scopeOf = (staff: StaffPrincipal) => ({
  organizationId: staff.organizationId,
  principalId: staff.userId,
})

export const itemRoutes = createRouter()
  .openapi(
    list,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const query = c.req.valid('query')
      const org = staff.organizationId

      return readPage(
        c,
        staffReader(c.var.db, staff),
        {
          found: sql`exists (select 1 from requests r where ${requestIs(org, id)})`,
          view: itemView,
          from: sql`from request_items i`,
          where: [
            sql`i.request_id = ${id}::uuid and i.organization_id = ${org}::uuid`,
            ...itemFilters(query),
          ],
          order: itemsInListOrder,
          cursor: cursorFor(itemsInListOrder, query.cursor),
          limit: query.limit,
        },
        present,
      )
    },
    missingOnBadPath('request'),
  )
  .openapi(sync, async (c) => {
    const staff = staffOf(c)
    const query = c.req.valid('query')
    const order = byUpdated(query.sort === 'updatedAt' ? 'asc' : 'desc')

    const where = [sql`i.organization_id = ${staff.organizationId}::uuid`, ...itemFilters(query)]
    if (query.requestId) where.push(sql`i.request_id = ${query.requestId}::uuid`)
    return readPage(
      c,
      staffReader(c.var.db, staff),
      {
        view: itemView,
        from: sql`from request_items i`,
        where,
        order,
        cursor: cursorFor(order, query.cursor),
        limit: query.limit,
      },
      present,
    )
  })
  .openapi(
    create,
    async (c) => {
      const staff = staffOf(c)
      const { id: requestId } = c.req.valid('param')
      const input = c.req.valid('json')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const key = await idempotencyKeyOf(c, scopeOf(staff), JSON.stringify(input))

      const org = staff.organizationId
      const itemId = crypto.randomUUID()
      const eventId = crypto.randomUUID()
      const ids = { requestId, itemId }
      const result = await runItemWrite(
        c,
        {
          key,
          allowed: caller.holds,
          change: (gate) => [
            lockRequest(org, requestId),
            sql`
            with target as (
              select r.id from requests r
              where ${requestIs(org, requestId)} and r.status in ${itemsChangeableIn} and ${gate}
            ), created as (
              insert into request_items (id, organization_id, request_id, reference, section,
                title, description, due_date, priority, position)
              select ${itemId}::uuid, ${org}::uuid, t.id, ${input.reference}::text,
                ${input.section ?? null}::text, ${input.title}::text,
                ${input.description ?? null}::text, ${input.dueDate ?? null}::date,
                ${input.priority ?? null}::priority,
                coalesce((select max(x.position) from request_items x
                  where x.request_id = t.id), 0) + 1
              from target t
              where not exists (select 1 from request_items x where x.request_id = t.id
                and x.reference = ${input.reference}::text and x.deleted_at is null)
              returning id, request_id, reference, title
            ), touched as (
              update requests r set revision = r.revision + 1, updated_at = now()
              where r.id in (select request_id from created)
            )
            insert into activity_events (id, organization_id, actor_type, actor_id, request_id,
              item_id, action, after)
            select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, n.request_id,
              n.id, 'item.created', jsonb_build_object('reference', n.reference, 'title', n.title)
            from created n`,
          ],
          done: eventExists(eventId),
          response: { status: 201, body: itemBody(org, requestId, itemId) },
          outcome: itemOutcome(caller, staff, ids, eventId, input.reference),
        },
        input.reference,
      )
      if (result.replay) return c.json(present(result.replay.body), 201, replayedHeaders)

      const outcome = result.outcome
      if (!outcome.done) {
        caller.assert(outcome.standing)
        if (outcome.request_status === null) throw notFound('request')
        if (outcome.reference_taken) throw duplicateReference(input.reference)
        throw closedRequest(outcome.request_status)
      }
      c.header('location', `/v1/requests/${requestId}/items/${itemId}`)
      return c.json(present(outcome.body), 201, etagHeader(outcome.etag))
    },
    missingOnBadPath('request'),
  )
  .openapi(
    read,
    async (c) => {
      const staff = staffOf(c)
      const { id, itemId } = c.req.valid('param')
      const caller = staffReader(c.var.db, staff)
      const row = sql`
        select v.body, ${viewTag(sql`v.body`)} as etag
        from request_items i cross join lateral (select ${itemView} as body) v
        where ${itemIs(staff.organizationId, id, itemId)}`
      return readOne(c, caller, row, 'item', present)
    },
    missingOnBadPath('item'),
  )
  .openapi(
    update,
    async (c) => {
      const staff = staffOf(c)
      const { id: requestId, itemId } = c.req.valid('param')
      const fields = c.req.valid('json')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const wanted = precondition(c)

      const org = staff.organizationId
      const eventId = crypto.randomUUID()
      const ids = { requestId, itemId }
      const edits = editsOf(fields, editable)
      const free =
        fields.reference === undefined
          ? sql`true`
          : sql`not exists (select 1 from request_items x where x.request_id = i.request_id
              and x.reference = ${fields.reference}::text and x.deleted_at is null
              and x.id <> i.id)`
      const result = await runItemWrite(
        c,
        {
          key: undefined,
          allowed: caller.holds,
          change: (gate) => [
            lockRequest(org, requestId),
            sql`
            with prior as (
              select i.id, i.request_id, i.reference, i.section, i.title, i.description,
                i.due_date, i.priority, i.position
              from request_items i
              where ${itemIs(org, requestId, itemId)} and ${gate} and ${free}
                and ${preconditionHolds(wanted, itemView)}
                and exists (select 1 from requests r where ${requestIs(org, requestId)}
                  and r.status in ${itemsChangeableIn})
            ), changed as (
              update request_items i
              set ${edits.set}, revision = i.revision + 1, updated_at = now()
              from prior p where i.id = p.id and ${edits.differs}
              returning i.id, i.request_id
            ), touched as (
              update requests r set revision = r.revision + 1, updated_at = now()
              where r.id in (select request_id from changed)
            )
            insert into activity_events (id, organization_id, actor_type, actor_id, request_id,
              item_id, action, before, after)
            select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, n.request_id,
              n.id, 'item.updated', ${edits.before}, ${edits.after}
            from changed n join prior p on p.id = n.id`,
          ],
          done: eventExists(eventId),
          response: { status: 200, body: itemBody(org, requestId, itemId) },
          outcome: itemOutcome(caller, staff, ids, eventId, fields.reference),
        },
        fields.reference,
      )

      const outcome = result.outcome
      if (!outcome.done) {
        explainItem(caller, outcome, wanted)
        if (outcome.reference_taken) throw duplicateReference(fields.reference)
        const changeable: readonly string[] = itemsChangeableIn
        if (!changeable.includes(outcome.request_status ?? '')) {
          throw closedRequest(outcome.request_status)
        }
      }
      return c.json(present(outcome.body), 200, etagHeader(outcome.etag))
    },
    missingOnBadPath('item'),
  )
  .openapi(
    remove,
    async (c) => {
      const staff = staffOf(c)
      const { id: requestId, itemId } = c.req.valid('param')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const wanted = precondition(c)

      const org = staff.organizationId
      const eventId = crypto.randomUUID()
      const result = await runItemWrite(
        c,
        {
          key: undefined,
          allowed: caller.holds,
          change: (gate) => [
            lockRequest(org, requestId),
            sql`
            with prior as (
              select i.id, i.request_id, i.reference, i.title, i.status from request_items i
              where ${itemIs(org, requestId, itemId)} and ${gate}
                and ${preconditionHolds(wanted, itemView)}
                and exists (select 1 from requests r where ${requestIs(org, requestId)}
                  and r.status in ${itemsChangeableIn})
            ), gone as (
              update request_items i
              set deleted_at = now(), updated_at = now(), revision = i.revision + 1
              from prior p where i.id = p.id
              returning i.id, i.request_id
            ), touched as (
              update requests r set revision = r.revision + 1, updated_at = now()
              where r.id in (select request_id from gone)
            )
            insert into activity_events (id, organization_id, actor_type, actor_id, request_id,
              item_id, action, before)
            select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, g.request_id,
              g.id, 'item.deleted',
              jsonb_build_object('reference', p.reference, 'title', p.title, 'status', p.status)
            from gone g join prior p on p.id = g.id`,
          ],
          done: eventExists(eventId),
          response: { status: 204, body: sql`null` },
          outcome: itemOutcome(caller, staff, { requestId, itemId }, eventId, undefined),
        },
        undefined,
      )

      const outcome = result.outcome
      if (!outcome.done) {
        explainItem(caller, outcome, wanted)
        throw closedRequest(outcome.request_status)
      }
      return c.body(null, 204)
    },
    missingOnBadPath('item'),
  )
  .openapi(
    accept,
    async (c) => {
      const staff = staffOf(c)
      const { id: requestId, itemId } = c.req.valid('param')
      const key = await idempotencyKeyOf(c, scopeOf(staff), '')
      return review(c, { requestId, itemId }, 'accepted', null, key)
    },
    missingOnBadPath('item'),
  )
  .openapi(
    giveBack,
    async (c) => {
      const staff = staffOf(c)
      const { id: requestId, itemId } = c.req.valid('param')
      const { reason } = c.req.valid('json')
      const key = await idempotencyKeyOf(c, scopeOf(staff), JSON.stringify({ reason }))
      return review(c, { requestId, itemId }, 'returned', reason, key)
    },
    missingOnBadPath('item'),
  )
