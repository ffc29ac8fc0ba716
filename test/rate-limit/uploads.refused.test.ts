// Upload intents on the real routes share one budget per organization (RATE_LIMIT_UPLOADS),
// whoever asks: staff and portal contacts of the firm draw from the same quota.
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { seedTenant, type Tenant } from '../access/tenant'
import { expectStatus, send } from '../cache/harness'

const overrides = { RATE_LIMIT_UPLOADS: '2/1h' }

const call = (path: string, token: string, body?: unknown) =>
  send(path, {
    app: worker,
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    overrides,
  })

async function sentItem(tenant: Tenant) {
  const manager = tenant.staff.manager.token
  const created = await call('/v1/requests', manager, { clientId: tenant.client.id, title: 'FY' })
  await expectStatus(created, 201)
  const { id } = (await created.json()) as { id: string }
  const item = await call(`/v1/requests/${id}/items`, manager, { reference: 'U-1', title: 'TB' })
  await expectStatus(item, 201)
  await expectStatus(await call(`/v1/requests/${id}/transitions`, manager, { to: 'sent' }), 200)
  const { id: itemId } = (await item.json()) as { id: string }
  return { requestId: id, itemId }
}

const upload = { filename: 'trial-balance.pdf', contentType: 'application/pdf', sizeBytes: 1024 }

describe('upload intents', () => {
  it('are limited per organization, across staff and portal callers', async () => {
    const tenant = await seedTenant()
    const { requestId, itemId } = await sentItem(tenant)
    const staffPath = `/v1/requests/${requestId}/items/${itemId}/uploads`
    const portalPath = `/v1/portal/requests/${requestId}/items/${itemId}/uploads`

    await expectStatus(await call(staffPath, tenant.staff.member.token, upload), 201)
    const second = await call(portalPath, tenant.portal.token, upload)
    await expectStatus(second, 201)
    expect(second.headers.get('ratelimit')).toContain('"uploads";r=0;')

    const refused = await call(staffPath, tenant.staff.admin.token, upload)
    await expectStatus(refused, 429)
    expect(await refused.json()).toMatchObject({ code: 'rate_limited', policy: 'uploads' })

    const other = await seedTenant()
    const elsewhere = await sentItem(other)
    const otherPath = `/v1/requests/${elsewhere.requestId}/items/${elsewhere.itemId}/uploads`
    await expectStatus(await call(otherPath, other.staff.member.token, upload), 201)
  })
})
