// A client contact probing beyond its own client: other clients of the same firm, other
// firms, drafts, internal notes, and sessions that have ended.
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { signPortalToken } from '../../src/auth/tokens'
import * as schema from '../../src/db/schema'
import {
  type Api,
  call,
  config,
  database,
  expectProblem,
  json,
  seedTenant,
  type Tenant,
  tenantSnapshot,
} from '../access/tenant'
import { createRequest, type Page, sentRequest } from './support'

const portalRoutes = (requestId: string, token: string): Promise<Api>[] => [
  call(`/v1/portal/requests/${requestId}`, { token }),
  call(`/v1/portal/requests/${requestId}/items`, { token }),
  call(`/v1/portal/requests/${requestId}/comments`, { token }),
  call(`/v1/portal/requests/${requestId}/comments`, { token, body: { body: 'hello?' } }),
]

/** A second client of the same firm, with its own contact and portal session. */
async function neighbour(tenant: Tenant) {
  const db = database()
  const clientId = crypto.randomUUID()
  const contactId = crypto.randomUUID()
  const sessionId = crypto.randomUUID()
  const organizationId = tenant.organization.id
  await db.batch([
    db.insert(schema.clients).values({ id: clientId, organizationId, name: 'Neighbour Ltd' }),
    db.insert(schema.clientContacts).values({
      id: contactId,
      organizationId,
      clientId,
      email: `n-${contactId}@client.test`,
      name: 'Neighbour contact',
    }),
    db.insert(schema.portalSessions).values({
      id: sessionId,
      organizationId,
      contactId,
      clientId,
      expiresAt: sql`now() + interval '1 hour'`,
    }),
  ])
  const token = await signPortalToken(config(), {
    kind: 'portal',
    contactId,
    clientId,
    organizationId,
    sessionId,
  })
  return { clientId, token }
}

describe('portal: attacks', () => {
  it('another client of the same firm sees none of it, and can write nothing', async () => {
    const tenant = await seedTenant()
    const { request } = await sentRequest(tenant, 1)
    const other = await neighbour(tenant)
    const before = await tenantSnapshot(tenant.organization.id)
    for (const response of await Promise.all(portalRoutes(request.id, other.token))) {
      expectProblem(response, 404, 'not_found')
    }
    const list = await call('/v1/portal/requests', { token: other.token })
    expect(json<Page<unknown>>(list).data).toEqual([])
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('another firm’s contact sees none of it', async () => {
    const tenant = await seedTenant()
    const stranger = await seedTenant()
    const { request } = await sentRequest(tenant, 1)
    for (const response of await Promise.all(portalRoutes(request.id, stranger.portal.token))) {
      expectProblem(response, 404, 'not_found')
    }
  })

  it('drafts do not exist for the client', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    for (const response of await Promise.all(portalRoutes(request.id, tenant.portal.token))) {
      expectProblem(response, 404, 'not_found')
    }
  })

  it.each([
    ['a revoked session', sql`update portal_sessions set revoked_at = now()`],
    ['an expired session', sql`update portal_sessions set expires_at = now() - interval '1 s'`],
  ])('%s ends access at once', async (_name, change) => {
    const tenant = await seedTenant()
    const { request } = await sentRequest(tenant, 1)
    await database().execute(
      sql`${change} where id = ${tenant.portal.sessionId}::uuid`,
    )
    const before = await tenantSnapshot(tenant.organization.id)
    for (const response of await Promise.all(portalRoutes(request.id, tenant.portal.token))) {
      expectProblem(response, 401, 'unauthorized')
    }
    const list = await call('/v1/portal/requests', { token: tenant.portal.token })
    expectProblem(list, 401, 'unauthorized')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('a disabled contact is refused', async () => {
    const tenant = await seedTenant()
    const { request } = await sentRequest(tenant, 1)
    await database().execute(
      sql`update client_contacts set disabled_at = now() where id = ${tenant.contact.id}::uuid`,
    )
    const response = await call(`/v1/portal/requests/${request.id}/comments`, {
      token: tenant.portal.token,
      body: { body: 'still here?' },
    })
    expectProblem(response, 401, 'unauthorized')
  })

  it('a staff token is not a portal token; a client cannot write internal notes', async () => {
    const tenant = await seedTenant()
    const { request } = await sentRequest(tenant, 1)
    expectProblem(
      await call('/v1/portal/requests', { token: tenant.staff.owner.token }),
      401,
      'unauthorized',
    )
    const internal = await call(`/v1/portal/requests/${request.id}/comments`, {
      token: tenant.portal.token,
      body: { body: 'secret', internal: true },
    })
    expectProblem(internal, 400, 'validation_failed')
  })

  it('deleted items and deleted requests disappear from the portal', async () => {
    const tenant = await seedTenant()
    const { request, items } = await sentRequest(tenant, 2)
    await call(`/v1/requests/${request.id}/items/${items[0]?.id}`, {
      method: 'DELETE',
      token: tenant.staff.manager.token,
    })
    const list = await call(`/v1/portal/requests/${request.id}/items`, {
      token: tenant.portal.token,
    })
    expect(json<Page<{ id: string }>>(list).data.map((item) => item.id)).toEqual([items[1]?.id])
    const token = tenant.staff.manager.token
    await call(`/v1/requests/${request.id}`, { method: 'DELETE', token })
    expectProblem(
      await call(`/v1/portal/requests/${request.id}`, { token: tenant.portal.token }),
      404,
      'not_found',
    )
  })
})
