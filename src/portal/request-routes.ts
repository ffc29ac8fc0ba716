import { createRoute, z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import type { PortalPrincipal } from '../auth/principal'
import { portalOf, requirePortal } from '../auth/middleware'
import { cacheOrganizationView, cacheRequestView } from '../cache/middleware'
import { IfNoneMatchHeader, viewTag } from '../platform/etag'
import { createRouter } from '../platform/hono'
import { IdempotencyHeader } from '../platform/idempotency'
import {
  jsonBody,
  jsonResponse,
  missingOnBadPath,
  problems,
  portalSecurity,
  uuidParam,
} from '../platform/openapi'
import { pageOf } from '../platform/pagination'
import { byCreated, postComment } from '../requests/comment-routes'
import { portalCaller } from '../requests/guards'
import {
  cursorFor,
  itemsInListOrder,
  type ListOrder,
  portalCommentView,
  portalItemView,
  portalRequestView,
} from '../requests/queries'
import { readOne, readPage } from '../requests/respond'
import {
  CommentListQuery,
  ItemListQuery,
  PortalCommentBody,
  PortalCommentSchema,
  PortalItemSchema,
  PortalRequestListQuery,
  PortalRequestSchema,
} from '../requests/schemas'
import { startOnClientActivity } from '../requests/transitions'

const tags = ['Portal']
const params = z.object({ id: uuidParam('id') })

/**
 * What a contact may see: its own client's requests once sent (never drafts), never deleted.
 * The client comes from the session token, never from the URL.
 */
const visible = (portal: PortalPrincipal) =>
  sql`r.client_id = ${portal.clientId}::uuid and r.status <> 'draft'`

const visibleRequest = (portal: PortalPrincipal, requestId: string) => sql`exists (
  select 1 from requests r
  where r.id = ${requestId}::uuid and r.organization_id = ${portal.organizationId}::uuid
    and r.deleted_at is null and ${visible(portal)})`

const newest: ListOrder = {
  name: '-createdAt',
  column: sql`r.created_at`,
  kind: 'timestamp',
  nullable: false,
  direction: 'desc',
  id: sql`r.id`,
}

const list = createRoute({
  method: 'get',
  path: '/v1/portal/requests',
  tags,
  summary: 'The client’s requests (sent and later), newest first, with progress',
  middleware: [requirePortal(), cacheOrganizationView()] as const,
  security: portalSecurity,
  request: { query: PortalRequestListQuery, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(pageOf(PortalRequestSchema), 'A page of requests'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401),
  },
})

const read = createRoute({
  method: 'get',
  path: '/v1/portal/requests/{id}',
  tags,
  summary: 'One of the client’s requests with its progress',
  middleware: [requirePortal(), cacheRequestView()] as const,
  security: portalSecurity,
  request: { params, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(PortalRequestSchema, 'The request'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(401, 404),
  },
})

const items = createRoute({
  method: 'get',
  path: '/v1/portal/requests/{id}/items',
  tags,
  summary: 'The items asked for, in list order, with their status and return reasons',
  middleware: [requirePortal(), cacheRequestView()] as const,
  security: portalSecurity,
  request: {
    params,
    query: ItemListQuery.omit({ updatedSince: true }),
    headers: IfNoneMatchHeader,
  },
  responses: {
    200: jsonResponse(pageOf(PortalItemSchema), 'A page of items'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401, 404),
  },
})

const comments = createRoute({
  method: 'get',
  path: '/v1/portal/requests/{id}/comments',
  tags,
  summary: 'The conversation on a request, oldest first (staff-internal notes never appear)',
  middleware: [requirePortal(), cacheRequestView()] as const,
  security: portalSecurity,
  request: { params, query: CommentListQuery, headers: IfNoneMatchHeader },
  responses: {
    200: jsonResponse(pageOf(PortalCommentSchema), 'A page of comments'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401, 404),
  },
})

const comment = createRoute({
  method: 'post',
  path: '/v1/portal/requests/{id}/comments',
  tags,
  summary: 'Comment on a request or one of its items',
  description: 'The client’s first comment on a sent request moves it to in_progress.',
  middleware: [requirePortal()] as const,
  security: portalSecurity,
  request: { params, body: jsonBody(PortalCommentBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(PortalCommentSchema, 'Created (or replayed: `Idempotent-Replayed: true`)'),
    ...problems(400, 401, 404, 409, 415, 422),
  },
})

const presentRequest = (body: unknown) => PortalRequestSchema.parse(body)
const presentItem = (body: unknown) => PortalItemSchema.parse(body)
const presentComment = (body: unknown) => PortalCommentSchema.parse(body)

const ownRequest = (portal: PortalPrincipal, requestId: string): SQL =>
  sql`r.id = ${requestId}::uuid and r.organization_id = ${portal.organizationId}::uuid
    and r.deleted_at is null and ${visible(portal)}`

export const portalRequestRoutes = createRouter()
  .openapi(list, async (c) => {
    const portal = portalOf(c)
    const query = c.req.valid('query')

    const where: SQL[] = [
      sql`r.organization_id = ${portal.organizationId}::uuid and r.deleted_at is null`,
      visible(portal),
    ]
    if (query.status) where.push(sql`r.status in ${query.status}`)
    return readPage(
      c,
      portalCaller(portal),
      {
        view: portalRequestView,
        from: sql`from requests r`,
        where,
        order: newest,
        cursor: cursorFor(newest, query.cursor),
        limit: query.limit,
      },
      presentRequest,
    )
  })
  .openapi(
    read,
    async (c) => {
      const portal = portalOf(c)
      const { id } = c.req.valid('param')
      const row = sql`
        select v.body, ${viewTag(sql`v.body`)} as etag
        from requests r cross join lateral (select ${portalRequestView} as body) v
        where ${ownRequest(portal, id)}`
      return readOne(c, portalCaller(portal), row, 'request', presentRequest)
    },
    missingOnBadPath('request'),
  )
  .openapi(
    items,
    async (c) => {
      const portal = portalOf(c)
      const { id } = c.req.valid('param')
      const query = c.req.valid('query')

      const where: SQL[] = [sql`i.request_id = ${id}::uuid and i.deleted_at is null`]
      if (query.status) where.push(sql`i.status in ${query.status}`)
      return readPage(
        c,
        portalCaller(portal),
        {
          found: visibleRequest(portal, id),
          view: portalItemView,
          from: sql`from request_items i`,
          where,
          order: itemsInListOrder,
          cursor: cursorFor(itemsInListOrder, query.cursor),
          limit: query.limit,
        },
        presentItem,
      )
    },
    missingOnBadPath('request'),
  )
  .openapi(
    comments,
    async (c) => {
      const portal = portalOf(c)
      const { id } = c.req.valid('param')
      const query = c.req.valid('query')

      const where: SQL[] = [
        sql`cm.request_id = ${id}::uuid and cm.deleted_at is null and not cm.internal`,
      ]
      if (query.itemId) where.push(sql`cm.item_id = ${query.itemId}::uuid`)
      return readPage(
        c,
        portalCaller(portal),
        {
          found: visibleRequest(portal, id),
          view: portalCommentView,
          from: sql`from comments cm`,
          where,
          order: byCreated,
          cursor: cursorFor(byCreated, query.cursor),
          limit: query.limit,
        },
        presentComment,
      )
    },
    missingOnBadPath('request'),
  )
  .openapi(
    comment,
    async (c) => {
      const portal = portalOf(c)
      const { id } = c.req.valid('param')
      const input = c.req.valid('json')
      const caller = portalCaller(portal)
      return postComment(
        c,
        caller,
        { requestId: id, visible: visible(portal) },
        { ...input, internal: false },
        { view: portalCommentView, present: presentComment },
        // The client's first act on a sent request starts it, in the same batch.
        (done) => [startOnClientActivity(caller, id, 'comment.added', done)],
      )
    },
    missingOnBadPath('request'),
  )
