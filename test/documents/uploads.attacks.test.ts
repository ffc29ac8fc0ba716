// What is attacked: another tenant's (or another client's) items and documents answer 404
// exactly like missing ones, no URL is minted, and nothing is written or recorded.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { signPortalToken } from '../../src/auth/tokens'
import * as schema from '../../src/db/schema'
import {
  call,
  config,
  database,
  expectProblem,
  expectStatus,
  json,
  roundTrips,
  seedTenant,
  type Tenant,
  tenantSnapshot,
} from '../access/tenant'
import { type Intent, type Items, pdf, seedItems, startUpload, storeObject } from './support'

/** A tenant with one verified version on its first item. */
async function tenantWithDocument() {
  const tenant = await seedTenant()
  const items = await seedItems(tenant)
  const intent = json<Intent>(await startUpload(tenant, items, pdf(48)))
  await storeObject(tenant, items, intent.documentId, new Uint8Array(48))
  const completed = await call(intent.completePath, {
    token: tenant.staff.member.token,
    method: 'POST',
  })
  expectStatus(completed, 201)
  return { tenant, items, intent }
}

/** A second client of the same organization, with its own contact and portal session. */
async function otherClientPortal(tenant: Tenant) {
  const db = database()
  const clientId = crypto.randomUUID()
  const contactId = crypto.randomUUID()
  const sessionId = crypto.randomUUID()
  const organizationId = tenant.organization.id
  await db.batch([
    db.insert(schema.clients).values({ id: clientId, organizationId, name: 'Rival Ltd' }),
    db.insert(schema.clientContacts).values({
      id: contactId,
      organizationId,
      clientId,
      email: `rival-${contactId}@client.test`,
      name: 'Rival',
    }),
    db.insert(schema.portalSessions).values({
      id: sessionId,
      organizationId,
      contactId,
      clientId,
      expiresAt: new Date(Date.now() + 3600_000),
    }),
  ])
  return signPortalToken(config(), {
    kind: 'portal',
    contactId,
    clientId,
    organizationId,
    sessionId,
  })
}

type Route = [method: string, path: string, body: unknown]

const documentRoutes = (items: Items, documentId: string, portal: boolean): Route[] => {
  const prefix = portal ? '/v1/portal' : '/v1'
  const item = `${prefix}/requests/${items.requestId}/items/${items.itemIds[0]}`
  const routes: Route[] = [
    ['POST', `${item}/uploads`, pdf()],
    ['POST', `${item}/uploads/${documentId}/complete`, undefined],
    ['GET', `${item}/documents`, undefined],
    ['GET', `${prefix}/documents/${documentId}/download`, undefined],
  ]
  return portal ? routes : [...routes, ['DELETE', `${prefix}/documents/${documentId}`, undefined]]
}

describe('another organization', () => {
  it('cannot reach an item or a document: 404 on every route, no URL, nothing written', async () => {
    const victim = await tenantWithDocument()
    const attacker = await seedTenant()
    const before = await tenantSnapshot(victim.tenant.organization.id)

    for (const [method, path, body] of documentRoutes(
      victim.items,
      victim.intent.documentId,
      false,
    )) {
      const response = await call(path, { method, token: attacker.staff.owner.token, body })
      expectProblem(response, 404, 'not_found')
      expect(response.text, path).not.toContain('X-Amz')
      expect(roundTrips(response)).toBeLessThanOrEqual(1)
    }
    for (const [method, path, body] of documentRoutes(
      victim.items,
      victim.intent.documentId,
      true,
    )) {
      const response = await call(path, { method, token: attacker.portal.token, body })
      expectProblem(response, 404, 'not_found')
      expect(response.text, path).not.toContain('X-Amz')
    }

    expect(await tenantSnapshot(victim.tenant.organization.id)).toEqual(before)
  })

  it('cannot complete its own intent onto an object stored under the victim’s prefix', async () => {
    const victim = await tenantWithDocument()
    const attacker = await seedTenant()
    const attackerItems = await seedItems(attacker)
    const intent = json<Intent>(await startUpload(attacker, attackerItems, pdf(48)))

    // The victim's object exists, but completion only ever looks under the caller's own key.
    const victimKey = await storeObject(
      victim.tenant,
      victim.items,
      intent.documentId,
      new Uint8Array(48),
    )
    expect(await env.DOCUMENTS.head(victimKey)).not.toBeNull()
    const response = await call(intent.completePath, {
      token: attacker.staff.member.token,
      method: 'POST',
    })

    expectProblem(response, 409, 'conflict')
  })
})

describe('another client of the same organization', () => {
  it('sees none of this client’s items or documents through the portal', async () => {
    const victim = await tenantWithDocument()
    const rivalToken = await otherClientPortal(victim.tenant)
    const before = await tenantSnapshot(victim.tenant.organization.id)

    for (const [method, path, body] of documentRoutes(
      victim.items,
      victim.intent.documentId,
      true,
    )) {
      const response = await call(path, { method, token: rivalToken, body })
      expectProblem(response, 404, 'not_found')
      expect(response.text, path).not.toContain('X-Amz')
    }
    expect(await tenantSnapshot(victim.tenant.organization.id)).toEqual(before)

    // The victim's own contact still can.
    const own = await call(`/v1/portal/documents/${victim.intent.documentId}/download`, {
      token: victim.tenant.portal.token,
    })
    expectStatus(own, 200)
  })
})

describe('responses', () => {
  it('expose only documented fields: no object key, bucket path or internals', async () => {
    const { tenant, items, intent } = await tenantWithDocument()

    const listed = await call(
      `/v1/requests/${items.requestId}/items/${items.itemIds[0]}/documents`,
      {
        token: tenant.staff.member.token,
      },
    )
    expectStatus(listed, 200)
    const version = json<{ data: Record<string, unknown>[] }>(listed).data[0] ?? {}
    expect(Object.keys(version).sort()).toEqual([
      'checksumSha256',
      'contentType',
      'createdAt',
      'deletedAt',
      'filename',
      'id',
      'itemId',
      'requestId',
      'sizeBytes',
      'uploadedBy',
      'version',
    ])
    expect(listed.text).not.toContain(tenant.organization.id)

    const download = await call(`/v1/documents/${intent.documentId}/download`, {
      token: tenant.staff.member.token,
    })
    expect(Object.keys(json<object>(download)).sort()).toEqual(['expiresAt', 'url'])
  })
})
