import { createRoute, z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { requireStaff, staffOf } from '../auth/middleware'
import { IfNoneMatchHeader } from '../platform/etag'
import { createRouter } from '../platform/hono'
import {
  jsonResponse,
  missingOnBadPath,
  problems,
  staffSecurity,
  uuidParam,
} from '../platform/openapi'
import { pageOf } from '../platform/pagination'
import { staffReader } from './guards'
import { cursorFor, eventView, type ListOrder, requestIs } from './queries'
import { readPage } from './respond'
import { ActivityEventSchema, ActivityListQuery } from './schemas'

const present = (body: unknown) => ActivityEventSchema.parse(body)

const byTime: ListOrder = {
  name: 'createdAt',
  column: sql`ev.created_at`,
  kind: 'timestamp',
  nullable: false,
  direction: 'asc',
  id: sql`ev.id`,
}

const list = createRoute({
  method: 'get',
  path: '/v1/requests/{id}/activity',
  tags: ['Activity'],
  summary: 'The request’s activity trail, oldest first; `itemId` narrows it to one item',
  description:
    'Every change appends an event (actor, time, before/after) in the same batch as the ' +
    'change itself: `request.created`, `request.updated`, `request.sent`, ' +
    '`request.started`, `request.completed`, `request.cancelled`, `request.assigned`, ' +
    '`request.deleted`, `request.imported`, `item.created`, `item.updated`, `item.deleted`, ' +
    '`item.submitted`, `item.accepted`, `item.returned`, `comment.added`.',
  middleware: [requireStaff('member')] as const,
  security: staffSecurity,
  request: {
    params: z.object({ id: uuidParam('id') }),
    query: ActivityListQuery,
    headers: IfNoneMatchHeader,
  },
  responses: {
    200: jsonResponse(pageOf(ActivityEventSchema), 'A page of events'),
    304: { description: 'Not modified (If-None-Match)' },
    ...problems(400, 401, 404),
  },
})

export const activityRoutes = createRouter().openapi(
  list,
  async (c) => {
    const staff = staffOf(c)
    const { id } = c.req.valid('param')
    const query = c.req.valid('query')
    const org = staff.organizationId

    const where = [sql`ev.request_id = ${id}::uuid`]
    if (query.itemId) where.push(sql`ev.item_id = ${query.itemId}::uuid`)
    return readPage(
      c,
      staffReader(c.var.db, staff),
      {
        found: sql`exists (select 1 from requests r where ${requestIs(org, id)})`,
        view: eventView,
        from: sql`from activity_events ev`,
        where,
        order: byTime,
        cursor: cursorFor(byTime, query.cursor),
        limit: query.limit,
      },
      present,
    )
  },
  missingOnBadPath('request'),
)
