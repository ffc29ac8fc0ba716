import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { actorGuard, actorReader, staleSession } from '../auth/actor-guard'
import { requireStaff, staffOf } from '../auth/middleware'
import { keyScopeOf, type StaffPrincipal } from '../auth/principal'
import { NameInput } from '../auth/views'
import { clients } from '../db/schema'
import { notFound } from '../platform/errors'
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
import {
  afterCreated,
  createdKeys,
  decodeCursor,
  pageOf,
  PageQuery,
  takePage,
  timestampKey,
} from '../platform/pagination'
import { insertWhere } from '../platform/sql-helpers'
import { clientBody, clientColumns, ClientView, clientView } from './views'

const ClientParams = z.object({ id: uuidParam('id') })

const ClientBody = z.strictObject({ name: NameInput }).openapi('ClientRequest')

const ClientPatch = z
  .strictObject({ name: NameInput.optional() })
  .refine((patch) => patch.name !== undefined, 'name a field to change')
  .openapi('ClientPatch')

const listClients = createRoute({
  method: 'get',
  path: '/v1/clients',
  tags: ['Clients'],
  summary: 'Clients of the caller’s organization',
  security: staffSecurity,
  middleware: [requireStaff('member')] as const,
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(pageOf(ClientView).openapi('ClientPage'), 'One page, oldest first'),
    ...problems(400, 401),
  },
})

const createClient = createRoute({
  method: 'post',
  path: '/v1/clients',
  tags: ['Clients'],
  summary: 'Add a client (manager or above)',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { body: jsonBody(ClientBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(ClientView, 'Created (or replayed: `Idempotent-Replayed: true`)'),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
})

const getClient = createRoute({
  method: 'get',
  path: '/v1/clients/{id}',
  tags: ['Clients'],
  summary: 'One client',
  security: staffSecurity,
  middleware: [requireStaff('member')] as const,
  request: { params: ClientParams },
  responses: { 200: jsonResponse(ClientView, 'The client'), ...problems(401, 404) },
})

const updateClient = createRoute({
  method: 'patch',
  path: '/v1/clients/{id}',
  tags: ['Clients'],
  summary: 'Rename a client (manager or above)',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: ClientParams, body: jsonBody(ClientPatch) },
  responses: {
    200: jsonResponse(ClientView, 'Updated'),
    ...problems(400, 401, 403, 404, 413, 415),
  },
})

const deleteClient = createRoute({
  method: 'delete',
  path: '/v1/clients/{id}',
  tags: ['Clients'],
  summary: 'Delete a client (admin or above)',
  description: 'A soft delete: the client disappears from the API and its portal access ends.',
  security: staffSecurity,
  middleware: [requireStaff('admin')] as const,
  request: { params: ClientParams },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
})

const liveClient = (staff: StaffPrincipal, id: string) =>
  and(
    eq(clients.id, id),
    eq(clients.organizationId, staff.organizationId),
    isNull(clients.deletedAt),
  )

export const clientRoutes = createRouter()
  .openapi(listClients, async (c) => {
    const { limit, cursor } = c.req.valid('query')
    const staff = staffOf(c)
    const after = decodeCursor(cursor, createdKeys)

    const reader = actorReader(staff)
    const rows = await c.var.db
      .select({
        standing: reader.columns,
        client: clientColumns,
        key: timestampKey(clients.createdAt),
      })
      .from(reader.actor)
      .leftJoin(
        clients,
        and(
          reader.holds,
          eq(clients.organizationId, staff.organizationId),
          isNull(clients.deletedAt),
          afterCreated(clients.createdAt, clients.id, after),
        ),
      )
      .where(reader.identifies)
      .orderBy(asc(clients.createdAt), asc(clients.id))
      .limit(limit + 1)
    reader.assert(rows)

    const found = rows.flatMap((row) => (row.client ? [{ ...row.client, key: row.key }] : []))
    const page = takePage(found, limit, (row) => [row.key, row.id])
    return c.json({ data: page.data.map(clientView), nextCursor: page.nextCursor }, 200)
  })
  .openapi(createClient, async (c) => {
    const input = c.req.valid('json')
    const staff = staffOf(c)
    const { db, log } = c.var
    const org = staff.organizationId
    const key = await idempotencyKeyOf(c, keyScopeOf(staff), JSON.stringify(input))

    const guard = actorGuard(db, staff, 'manager')
    const id = crypto.randomUUID()
    const body = clientBody(org, id)
    const result = await executeWrite<{ standing: unknown; body: unknown }>(db, {
      key,
      allowed: guard.holds,
      change: (gate) => [
        insertWhere(db, clients, { id, organizationId: org, name: input.name }, gate).getSQL(),
      ],
      done: sql`${body} is not null`,
      response: { status: 201, body },
      outcome: sql`select ${guard.standing} as standing, ${body} as body`,
    })
    if (result.replay) return c.json(ClientView.parse(result.replay.body), 201, replayedHeaders)

    const { outcome } = result
    if (outcome.body === null) {
      guard.assertStanding(outcome.standing)
      // The check passed but the insert's own guard did not: the caller changed in between.
      throw staleSession()
    }

    log.info('client created', { clientId: id })
    return c.json(ClientView.parse(outcome.body), 201)
  })
  .openapi(
    getClient,
    async (c) => {
      const { id } = c.req.valid('param')
      const staff = staffOf(c)

      const reader = actorReader(staff)
      const rows = await c.var.db
        .select({ standing: reader.columns, client: clientColumns })
        .from(reader.actor)
        .leftJoin(clients, and(reader.holds, liveClient(staff, id)))
        .where(reader.identifies)
      reader.assert(rows)

      const client = rows[0]?.client
      if (!client) throw notFound('client')

      return c.json(clientView(client), 200)
    },
    missingOnBadPath('client'),
  )
  .openapi(
    updateClient,
    async (c) => {
      const { id } = c.req.valid('param')
      const patch = c.req.valid('json')
      const staff = staffOf(c)
      const { db } = c.var

      const guard = actorGuard(db, staff, 'manager')
      const [actor, updated] = await db.batch([
        guard.check,
        db
          .update(clients)
          .set({ ...patch, updatedAt: sql`now()` })
          .where(and(liveClient(staff, id), guard.holds))
          .returning(clientColumns),
      ])

      const client = updated[0]
      if (!client) {
        guard.assert(actor)
        throw notFound('client')
      }

      return c.json(clientView(client), 200)
    },
    missingOnBadPath('client'),
  )
  .openapi(
    deleteClient,
    async (c) => {
      const { id } = c.req.valid('param')
      const staff = staffOf(c)
      const { db, log } = c.var

      const guard = actorGuard(db, staff, 'admin')
      const [actor, deleted] = await db.batch([
        guard.check,
        db
          .update(clients)
          .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(liveClient(staff, id), guard.holds))
          .returning({ id: clients.id }),
      ])

      if (!deleted[0]) {
        guard.assert(actor)
        throw notFound('client')
      }

      log.info('client deleted', { clientId: id })
      return c.body(null, 204)
    },
    missingOnBadPath('client'),
  )
