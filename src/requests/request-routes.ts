import { createRoute, z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import { requireStaff, staffOf } from '../auth/middleware'
import { cacheOrganizationView, cacheRequestView } from '../cache/middleware'
import { ApiError } from '../platform/errors'
import {
  IfMatchHeader,
  IfNoneMatchHeader,
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
  idempotencyKeyOf,
  replayedHeaders,
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
import { editsOf } from './edits'
import { type Caller, staffCaller, staffReader } from './guards'
import {
  containing,
  cursorFor,
  eventExists,
  type ListOrder,
  openRequestStatuses,
  requestBody,
  requestById,
  requestIs,
  requestView,
} from './queries'
import {
  etagHeader,
  explainRefusal,
  outcomeOf,
  readOne,
  readPage,
  unprocessable,
  withArticle,
  type WriteOutcome,
} from './respond'
import {
  AssigneeBody,
  CreateRequestBody,
  RequestListQuery,
  RequestSchema,
  requestSorts,
  TransitionBody,
  UpdateRequestBody,
} from './schemas'
import { lockRequest, requestTransitions, requestTransitionStatement } from './transitions'

type RequestView = z.infer<typeof RequestSchema>
const present = (body: unknown) => RequestSchema.parse(body)

const tags = ['Requests']
const idParams = z.object({ id: uuidParam('id') })

/** An assignee must be a current staff member of the same organization (or none). */
const assigneeAllowed = (organizationId: string, assigneeId: string | null) => sql`(
  ${assigneeId}::uuid is null or exists (select 1 from users au
    where au.id = ${assigneeId}::uuid and au.organization_id = ${organizationId}::uuid
      and au.removed_at is null))`

// ---- List ----

const sortColumns: Record<string, Pick<ListOrder, 'column' | 'kind' | 'nullable'>> = {
  createdAt: { column: sql`r.created_at`, kind: 'timestamp', nullable: false },
  updatedAt: { column: sql`r.updated_at`, kind: 'timestamp', nullable: false },
  dueDate: { column: sql`r.due_date`, kind: 'date', nullable: true },
}

function orderFor(sort: (typeof requestSorts)[number]): ListOrder {
  const field = sort.replace(/^-/, '')
  const column = sortColumns[field]
  if (column === undefined) throw new Error(`unknown sort ${sort}`)
  return { name: sort, ...column, direction: sort.startsWith('-') ? 'desc' : 'asc', id: sql`r.id` }
}

const list = createRoute({
  method: 'get',
  path: '/v1/requests',
  tags,
  summary: 'List requests: filters, sorting, keyset pages, `updatedSince` sync',
  description:
    'One database round trip. Each row carries its client and assignee names and its ' +
    'progress. With `updatedSince`, deleted requests are included as tombstones ' +
    '(`deletedAt` set) so a sync can drop them.',
  middleware: [requireStaff('member'), cacheOrganizationView()] as const,
  security: staffSecurity,
  request: { query: RequestListQuery, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(pageOf(RequestSchema), 'A page of requests'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401),
  },
})

// ---- Create ----

const create = createRoute({
  method: 'post',
  path: '/v1/requests',
  tags,
  summary: 'Create a draft request for a client',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { body: jsonBody(CreateRequestBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(RequestSchema, 'Created (or replayed: `Idempotent-Replayed: true`)'),
    ...problems(400, 401, 403, 409, 415, 422),
  },
})

// ---- Read, update, delete ----

const read = createRoute({
  method: 'get',
  path: '/v1/requests/{id}',
  tags,
  summary: 'One request with its progress; ETag / If-None-Match',
  middleware: [requireStaff('member'), cacheRequestView()] as const,
  security: staffSecurity,
  request: { params: idParams, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(RequestSchema, 'The request'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(401, 404),
  },
})

const update = createRoute({
  method: 'patch',
  path: '/v1/requests/{id}',
  tags,
  summary: 'Edit title, description, priority or due date of an open request',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: idParams, body: jsonBody(UpdateRequestBody), headers: IfMatchHeader },
  responses: {
    200: jsonResponse(RequestSchema, 'The request after the change'),
    ...problems(400, 401, 403, 404, 409, 412, 415),
  },
})

const remove = createRoute({
  method: 'delete',
  path: '/v1/requests/{id}',
  tags,
  summary: 'Delete a request and its items (soft: syncs see tombstones)',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: idParams, headers: IfMatchHeader },
  responses: {
    204: { description: 'Deleted' },
    ...problems(401, 403, 404, 412),
  },
})

// ---- Transitions and assignment ----

const transition = createRoute({
  method: 'post',
  path: '/v1/requests/{id}/transitions',
  tags,
  summary: 'Move a request: sent, in_progress, completed or cancelled',
  description:
    'draft → sent → in_progress → completed; cancelled from any open state. `completed` ' +
    'needs every live item accepted. A sent request also moves to in_progress by itself on ' +
    'the client’s first comment or submission. Illegal moves answer 409 ' +
    '`invalid_transition`; of two racing moves exactly one wins.',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: {
    params: idParams,
    body: jsonBody(TransitionBody),
    headers: IdempotencyHeader.extend(IfMatchHeader.shape),
  },
  responses: {
    200: jsonResponse(RequestSchema, 'The request after the transition'),
    ...problems(400, 401, 403, 404, 409, 412, 415, 422),
  },
})

const assign = createRoute({
  method: 'put',
  path: '/v1/requests/{id}/assignee',
  tags,
  summary: 'Assign the request to a staff member, or unassign it (null)',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: { params: idParams, body: jsonBody(AssigneeBody), headers: IfMatchHeader },
  responses: {
    200: jsonResponse(RequestSchema, 'The request after the change'),
    ...problems(400, 401, 403, 404, 409, 412, 415, 422),
  },
})

// Columns a PATCH may set: JSON field → column and its SQL type (fixed strings, never input).
const editable = {
  title: ['title', 'text'],
  description: ['description', 'text'],
  priority: ['priority', 'priority'],
  dueDate: ['due_date', 'date'],
} as const

const requestOutcome = (
  caller: Caller,
  organizationId: string,
  requestId: string,
  eventId: string,
  extra: SQL = sql``,
) =>
  outcomeOf(
    caller,
    eventExists(eventId),
    sql`select r.status, v.body, ${viewTag(sql`v.body`)} as etag
      from requests r cross join lateral (select ${requestView} as body) v
      where ${requestIs(organizationId, requestId)}`,
    sql`, x.status ${extra}`,
  )

interface RequestOutcome extends WriteOutcome<RequestView> {
  status: RequestView['status'] | null
}

const closed = (status: string | null) => status === 'completed' || status === 'cancelled'

const closedConflict = (status: string | null) =>
  new ApiError('conflict', { detail: `The request is ${status}; it can no longer be edited.` })

const invalidAssignee = () =>
  unprocessable('body.assigneeId', 'No current staff member of this organization has that id.')

export const requestRoutes = createRouter()
  .openapi(list, async (c) => {
    const staff = staffOf(c)
    const query = c.req.valid('query')
    const sync = query.updatedSince !== undefined
    const order = orderFor(query.sort ?? (sync ? 'updatedAt' : '-createdAt'))

    const where: SQL[] = [sql`r.organization_id = ${staff.organizationId}::uuid`]
    where.push(
      sync ? sql`r.updated_at >= ${query.updatedSince}::timestamptz` : sql`r.deleted_at is null`,
    )
    if (query.status) where.push(sql`r.status in ${query.status}`)
    if (query.clientId) where.push(sql`r.client_id = ${query.clientId}::uuid`)
    if (query.assigneeId) where.push(sql`r.assignee_id = ${query.assigneeId}::uuid`)
    if (query.priority) where.push(sql`r.priority in ${query.priority}`)
    if (query.dueBefore) where.push(sql`r.due_date <= ${query.dueBefore}::date`)
    if (query.dueAfter) where.push(sql`r.due_date >= ${query.dueAfter}::date`)
    const late = sql`r.due_date < current_date and r.status in ${openRequestStatuses}`
    if (query.overdue !== undefined) {
      where.push(query.overdue ? late : sql`not coalesce(${late}, false)`)
    }
    if (query.q) {
      const pattern = containing(query.q)
      where.push(sql`(r.title ilike ${pattern} or exists (select 1 from request_items qi
        where qi.request_id = r.id and qi.deleted_at is null
          and (qi.reference ilike ${pattern} or qi.title ilike ${pattern})))`)
    }

    return readPage(
      c,
      staffReader(c.var.db, staff),
      {
        view: requestView,
        from: sql`from requests r`,
        where,
        order,
        cursor: cursorFor(order, query.cursor),
        limit: query.limit,
      },
      present,
    )
  })
  .openapi(create, async (c) => {
    const staff = staffOf(c)
    const input = c.req.valid('json')
    const caller = staffCaller(c.var.db, staff, 'manager')
    const key = await idempotencyKeyOf(
      c,
      { organizationId: staff.organizationId, principalId: staff.userId },
      JSON.stringify(input),
    )

    const org = staff.organizationId
    const id = crypto.randomUUID()
    const eventId = crypto.randomUUID()
    const assigneeId = input.assigneeId ?? null
    const clientAllowed = sql`exists (select 1 from clients cl where cl.id = ${input.clientId}::uuid
      and cl.organization_id = ${org}::uuid and cl.deleted_at is null)`
    const result = await executeWrite<WriteOutcome<RequestView> & {
      client_ok: boolean
      assignee_ok: boolean
    }>(c.var.db, {
      key,
      allowed: caller.holds,
      change: (gate) => [
        sql`
        with created as (
          insert into requests (id, organization_id, client_id, title, description, priority,
            assignee_id, due_date, created_by)
          select ${id}::uuid, ${org}::uuid, ${input.clientId}::uuid, ${input.title}::text,
            ${input.description ?? null}::text, ${input.priority}::priority,
            ${assigneeId}::uuid, ${input.dueDate ?? null}::date, ${staff.userId}::uuid
          where ${gate} and ${clientAllowed} and ${assigneeAllowed(org, assigneeId)}
          returning id, client_id, title, status, priority, assignee_id, due_date
        )
        insert into activity_events
          (id, organization_id, actor_type, actor_id, request_id, action, after)
        select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, n.id,
          'request.created', jsonb_build_object('title', n.title, 'clientId', n.client_id,
            'status', n.status, 'priority', n.priority, 'assigneeId', n.assignee_id,
            'dueDate', n.due_date)
        from created n`,
      ],
      done: eventExists(eventId),
      response: { status: 201, body: requestBody(org, id) },
      outcome: outcomeOf(
        caller,
        eventExists(eventId),
        requestById(org, id),
        sql`, ${clientAllowed} as client_ok, ${assigneeAllowed(org, assigneeId)} as assignee_ok`,
      ),
    })
    if (result.replay) return c.json(present(result.replay.body), 201, replayedHeaders)

    const outcome = result.outcome
    if (!outcome.done) {
      caller.assert(outcome.standing)
      if (!outcome.client_ok) {
        throw unprocessable('body.clientId', 'No client of this organization has that id.')
      }
      if (!outcome.assignee_ok) throw invalidAssignee()
      throw new Error('request insert did not happen for an unknown reason')
    }
    c.header('location', `/v1/requests/${id}`)
    return c.json(present(outcome.body), 201, etagHeader(outcome.etag))
  })
  .openapi(
    read,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const caller = staffReader(c.var.db, staff)
      return readOne(c, caller, requestById(staff.organizationId, id), 'request', present)
    },
    missingOnBadPath('request'),
  )
  .openapi(
    update,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const fields = c.req.valid('json')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const wanted = precondition(c)

      const org = staff.organizationId
      const eventId = crypto.randomUUID()
      const edits = editsOf(fields, editable)
      const result = await executeWrite<RequestOutcome>(c.var.db, {
        key: undefined,
        allowed: caller.holds,
        change: (gate) => [
          lockRequest(org, id),
          sql`
          with prior as (
            select r.id, r.title, r.description, r.priority, r.due_date from requests r
            where ${requestIs(org, id)} and r.status in ${openRequestStatuses} and ${gate}
              and ${preconditionHolds(wanted, requestView)}
          ), changed as (
            update requests r set ${edits.set}, revision = r.revision + 1, updated_at = now()
            from prior p where r.id = p.id and ${edits.differs}
            returning r.id
          )
          insert into activity_events
            (id, organization_id, actor_type, actor_id, request_id, action, before, after)
          select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, n.id,
            'request.updated', ${edits.before}, ${edits.after}
          from changed n join prior p on p.id = n.id`,
        ],
        done: eventExists(eventId),
        response: { status: 200, body: requestBody(org, id) },
        outcome: requestOutcome(caller, org, id, eventId),
      })

      const outcome = result.outcome
      if (!outcome.done) {
        explainRefusal(caller, outcome, 'request')
        if (preconditionFails(wanted, outcome.etag)) throw preconditionFailed()
        if (closed(outcome.status)) throw closedConflict(outcome.status)
      }
      return c.json(present(outcome.body), 200, etagHeader(outcome.etag))
    },
    missingOnBadPath('request'),
  )
  .openapi(
    remove,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const wanted = precondition(c)

      const org = staff.organizationId
      const eventId = crypto.randomUUID()
      const result = await executeWrite<RequestOutcome>(c.var.db, {
        key: undefined,
        allowed: caller.holds,
        change: (gate) => [
          lockRequest(org, id),
          sql`
          with prior as (
            select r.id, r.status, r.title from requests r
            where ${requestIs(org, id)} and ${gate} and ${preconditionHolds(wanted, requestView)}
          ), gone as (
            update requests r
            set deleted_at = now(), updated_at = now(), revision = r.revision + 1
            from prior p where r.id = p.id
            returning r.id
          ), items as (
            update request_items i
            set deleted_at = now(), updated_at = now(), revision = i.revision + 1
            where i.request_id in (select id from gone) and i.deleted_at is null
          )
          insert into activity_events
            (id, organization_id, actor_type, actor_id, request_id, action, before)
          select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, g.id,
            'request.deleted', jsonb_build_object('status', p.status, 'title', p.title)
          from gone g join prior p on p.id = g.id`,
        ],
        done: eventExists(eventId),
        response: { status: 204, body: sql`null` },
        outcome: requestOutcome(caller, org, id, eventId),
      })

      const outcome = result.outcome
      if (!outcome.done) {
        explainRefusal(caller, outcome, 'request')
        if (preconditionFails(wanted, outcome.etag)) throw preconditionFailed()
        throw new Error('request delete did not happen for an unknown reason')
      }
      return c.body(null, 204)
    },
    missingOnBadPath('request'),
  )
  .openapi(
    transition,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const { to } = c.req.valid('json')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const wanted = precondition(c)
      const key = await idempotencyKeyOf(
        c,
        { organizationId: staff.organizationId, principalId: staff.userId },
        JSON.stringify({ to }),
      )

      const org = staff.organizationId
      const eventId = crypto.randomUUID()
      const actor = { type: 'user' as const, id: staff.userId, organizationId: org }
      const result = await executeWrite<RequestOutcome & { pending: number }>(c.var.db, {
        key,
        allowed: caller.holds,
        change: (gate) => [
          lockRequest(org, id),
          requestTransitionStatement({
            actor,
            requestId: id,
            to,
            eventId,
            gate,
            precondition: wanted,
          }),
        ],
        done: eventExists(eventId),
        response: { status: 200, body: requestBody(org, id) },
        outcome: requestOutcome(
          caller,
          org,
          id,
          eventId,
          sql`, (select count(*) from request_items pi where pi.request_id = ${id}::uuid
            and pi.deleted_at is null and pi.status <> 'accepted')::int as pending`,
        ),
      })
      if (result.replay) return c.json(present(result.replay.body), 200, replayedHeaders)

      const outcome = result.outcome
      if (!outcome.done) {
        explainRefusal(caller, outcome, 'request')
        if (preconditionFails(wanted, outcome.etag)) throw preconditionFailed()
        const from: readonly string[] = requestTransitions[to].from
        const detail = from.includes(outcome.status ?? '')
          ? `${outcome.pending} item(s) are not accepted yet; every live item must be accepted.`
          : `${withArticle(outcome.status)} request cannot move to ${to}.`
        throw new ApiError('invalid_transition', {
          detail,
          extensions: { status: outcome.status, to },
        })
      }
      return c.json(present(outcome.body), 200, etagHeader(outcome.etag))
    },
    missingOnBadPath('request'),
  )
  .openapi(
    assign,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const { assigneeId } = c.req.valid('json')
      const caller = staffCaller(c.var.db, staff, 'manager')
      const wanted = precondition(c)

      const org = staff.organizationId
      const eventId = crypto.randomUUID()
      const allowedAssignee = assigneeAllowed(org, assigneeId)
      const result = await executeWrite<RequestOutcome & { assignee_ok: boolean }>(c.var.db, {
        key: undefined,
        allowed: caller.holds,
        change: (gate) => [
          lockRequest(org, id),
          sql`
          with prior as (
            select r.id, r.assignee_id from requests r
            where ${requestIs(org, id)} and r.status in ${openRequestStatuses} and ${gate}
              and ${preconditionHolds(wanted, requestView)} and ${allowedAssignee}
          ), changed as (
            update requests r
            set assignee_id = ${assigneeId}::uuid, revision = r.revision + 1, updated_at = now()
            from prior p where r.id = p.id and p.assignee_id is distinct from ${assigneeId}::uuid
            returning r.id, p.assignee_id as before
          )
          insert into activity_events
            (id, organization_id, actor_type, actor_id, request_id, action, before, after)
          select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, n.id,
            'request.assigned', jsonb_build_object('assigneeId', n.before),
            jsonb_build_object('assigneeId', ${assigneeId}::uuid)
          from changed n`,
        ],
        done: eventExists(eventId),
        response: { status: 200, body: requestBody(org, id) },
        outcome: requestOutcome(caller, org, id, eventId, sql`, ${allowedAssignee} as assignee_ok`),
      })

      const outcome = result.outcome
      if (!outcome.done) {
        explainRefusal(caller, outcome, 'request')
        if (preconditionFails(wanted, outcome.etag)) throw preconditionFailed()
        if (closed(outcome.status)) throw closedConflict(outcome.status)
        if (!outcome.assignee_ok) throw invalidAssignee()
      }
      return c.json(present(outcome.body), 200, etagHeader(outcome.etag))
    },
    missingOnBadPath('request'),
  )
