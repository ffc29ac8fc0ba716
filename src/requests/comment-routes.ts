import { createRoute, z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import { requireStaff, staffOf } from '../auth/middleware'
import { notFound } from '../platform/errors'
import { IfNoneMatchHeader } from '../platform/etag'
import { type AppContext, createRouter } from '../platform/hono'
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
import { type Caller, staffCaller, staffReader } from './guards'
import { commentView, cursorFor, eventExists, type ListOrder, requestIs } from './queries'
import { outcomeOf, readPage, unprocessable, type WriteOutcome } from './respond'
import { CommentListQuery, CommentSchema, CreateCommentBody } from './schemas'

const present = (body: unknown) => CommentSchema.parse(body)

export const byCreated: ListOrder = {
  name: 'createdAt',
  column: sql`cm.created_at`,
  kind: 'timestamp',
  nullable: false,
  direction: 'asc',
  id: sql`cm.id`,
}

interface NewComment {
  caller: Caller
  requestId: string
  commentId: string
  eventId: string
  body: string
  itemId?: string | undefined
  internal: boolean
  /** SQL on request `r`: which requests this caller may comment on. */
  visible: SQL
}

/** Comment and its `comment.added` event in one statement; only on a request `visible`. */
function commentStatement(input: NewComment, gate: SQL): SQL {
  const { caller } = input
  const itemId = input.itemId ?? null
  return sql`
    with target as (
      select r.id from requests r
      where ${requestIs(caller.organizationId, input.requestId)} and ${input.visible} and ${gate}
        and (${itemId}::uuid is null or exists (select 1 from request_items ci
          where ci.id = ${itemId}::uuid and ci.request_id = r.id and ci.deleted_at is null))
    ), created as (
      insert into comments (id, organization_id, request_id, item_id, author_type, author_id,
        body, internal)
      select ${input.commentId}::uuid, ${caller.organizationId}::uuid, t.id, ${itemId}::uuid,
        ${caller.type}::actor_type, ${caller.id}::uuid, ${input.body}::text,
        ${input.internal}::boolean
      from target t
      returning id, request_id, item_id, internal
    )
    insert into activity_events (id, organization_id, actor_type, actor_id, request_id, item_id,
      action, after)
    select ${input.eventId}::uuid, ${caller.organizationId}::uuid, ${caller.type}::actor_type,
      ${caller.id}::uuid, n.request_id, n.item_id, 'comment.added',
      jsonb_build_object('commentId', n.id, 'internal', n.internal)
    from created n`
}

interface CommentOutcome extends WriteOutcome<unknown> {
  request_found: boolean
}

/** After-state of a comment write: the comment as `view` shows it, and the request's. */
function commentOutcome(input: NewComment, view: SQL): SQL {
  const { caller } = input
  return outcomeOf(
    caller,
    eventExists(input.eventId),
    sql`select ${view} as body, null::text as etag from comments cm
      where cm.id = ${input.commentId}::uuid`,
    sql`, exists (select 1 from requests r
      where ${requestIs(caller.organizationId, input.requestId)} and ${input.visible})
      as request_found`,
  )
}

const commentBodyOf = (commentId: string, view: SQL) =>
  sql`(select ${view} from comments cm where cm.id = ${commentId}::uuid)`

/** Why a comment was not written: the caller, a missing request, else the item. */
function explainComment(caller: Caller, outcome: CommentOutcome): never {
  caller.assert(outcome.standing)
  if (!outcome.request_found) throw notFound('request')
  throw unprocessable('body.itemId', 'No live item of this request has that id.')
}

export interface CommentInput {
  body: string
  itemId?: string | undefined
  internal: boolean
}

/**
 * Writes one comment by `caller` on a request `visible` to it, with its event and whatever
 * `also` adds to the same batch, and answers 201 with the comment as `view` shows it.
 * Staff and portal comments differ only in those arguments.
 */
export async function postComment<Out>(
  c: AppContext,
  caller: Caller,
  target: { requestId: string; visible: SQL },
  input: CommentInput,
  shape: { view: SQL; present: (body: unknown) => Out },
  also: (done: SQL) => SQL[] = () => [],
) {
  const key = await idempotencyKeyOf(
    c,
    { organizationId: caller.organizationId, principalId: caller.id },
    JSON.stringify(input),
  )
  const comment: NewComment = {
    caller,
    ...target,
    ...input,
    commentId: crypto.randomUUID(),
    eventId: crypto.randomUUID(),
  }
  const done = eventExists(comment.eventId)
  const result = await executeWrite<CommentOutcome>(c.var.db, {
    key,
    allowed: caller.holds,
    change: (gate) => [commentStatement(comment, gate), ...also(done)],
    done,
    response: { status: 201, body: commentBodyOf(comment.commentId, shape.view) },
    outcome: commentOutcome(comment, shape.view),
  })
  if (result.replay) return c.json(shape.present(result.replay.body), 201, replayedHeaders)

  if (!result.outcome.done) explainComment(caller, result.outcome)
  return c.json(shape.present(result.outcome.body), 201)
}

const params = z.object({ id: uuidParam('id') })

const list = createRoute({
  method: 'get',
  path: '/v1/requests/{id}/comments',
  tags: ['Comments'],
  summary: 'Comments on a request, oldest first (staff see internal ones); `itemId` filters',
  middleware: [requireStaff('member')] as const,
  security: staffSecurity,
  request: { params, query: CommentListQuery, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(pageOf(CommentSchema), 'A page of comments'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401, 404),
  },
})

const create = createRoute({
  method: 'post',
  path: '/v1/requests/{id}/comments',
  tags: ['Comments'],
  summary: 'Comment on a request or one of its items; `internal` hides it from the portal',
  middleware: [requireStaff('member')] as const,
  security: staffSecurity,
  request: { params, body: jsonBody(CreateCommentBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(CommentSchema, 'Created (or replayed: `Idempotent-Replayed: true`)'),
    ...problems(400, 401, 403, 404, 409, 415, 422),
  },
})

export const commentRoutes = createRouter()
  .openapi(
    list,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const query = c.req.valid('query')
      const org = staff.organizationId

      const where = [sql`cm.request_id = ${id}::uuid and cm.deleted_at is null`]
      if (query.itemId) where.push(sql`cm.item_id = ${query.itemId}::uuid`)
      return readPage(
        c,
        staffReader(c.var.db, staff),
        {
          found: sql`exists (select 1 from requests r where ${requestIs(org, id)})`,
          view: commentView,
          from: sql`from comments cm`,
          where,
          order: byCreated,
          cursor: cursorFor(byCreated, query.cursor),
          limit: query.limit,
        },
        present,
      )
    },
    missingOnBadPath('request'),
  )
  .openapi(
    create,
    async (c) => {
      const staff = staffOf(c)
      const { id } = c.req.valid('param')
      const input = c.req.valid('json')
      const caller = staffCaller(c.var.db, staff, 'member')
      return postComment(c, caller, { requestId: id, visible: sql`true` }, input, {
        view: commentView,
        present,
      })
    },
    missingOnBadPath('request'),
  )
