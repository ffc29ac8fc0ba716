// Staff reads check the stored user like writes do: a removed or demoted user's token, still
// unexpired, reads nothing more. One query each, whether it answers or refuses.
import { describe, expect, it } from 'vitest'
import {
  type Api,
  call,
  expectProblem,
  expectStatus,
  json,
  roundTrips,
  seedTenant,
  staffToken,
  type Tenant,
} from '../access/tenant'

const memberReads = (tenant: Tenant) => [
  '/v1/users',
  '/v1/clients',
  `/v1/clients/${tenant.client.id}`,
  `/v1/clients/${tenant.client.id}/contacts`,
]

const staleDetail = /account changed since this token was issued/

function expectStale(response: Api, path: string) {
  expectProblem(response, 401, 'unauthorized')
  expect((response.body as { detail?: string }).detail, `${path}: ${response.text}`).toMatch(
    staleDetail,
  )
  expect(response.headers.get('www-authenticate'), path).toContain('invalid_token')
  expect(roundTrips(response), path).toBe(1)
}

describe('staff reads after a removal or a demotion', () => {
  it('answer as before while the stored user still matches the token', async () => {
    const tenant = await seedTenant()
    for (const path of [...memberReads(tenant), '/v1/invitations']) {
      const response = await call(path, { token: tenant.staff.manager.token })
      expectStatus(response, 200)
      expect(roundTrips(response), path).toBe(1)
    }
  })

  it('refuse a removed user’s unexpired token with 401 on every list and detail', async () => {
    const tenant = await seedTenant()
    const victim = tenant.staff.manager
    const removed = await call(`/v1/users/${victim.id}`, {
      method: 'DELETE',
      token: tenant.staff.admin.token,
    })
    expectStatus(removed, 204)

    for (const path of [...memberReads(tenant), '/v1/invitations']) {
      expectStale(await call(path, { token: victim.token }), path)
    }
    // A missing client is not told apart from a present one: the refusal comes first.
    const missing = `/v1/clients/${crypto.randomUUID()}`
    expectStale(await call(missing, { token: victim.token }), missing)
    expectStale(await call(`${missing}/contacts`, { token: victim.token }), `${missing}/contacts`)

    // Colleagues are unaffected.
    const list = await call('/v1/users', { token: tenant.staff.member.token })
    expectStatus(list, 200)
    const ids = json<{ data: { id: string }[] }>(list).data.map((user) => user.id)
    expect(ids).not.toContain(victim.id)
  })

  it('refuse a demoted manager’s old token on the invitation list', async () => {
    const tenant = await seedTenant()
    const demoted = await call(`/v1/users/${tenant.staff.manager.id}`, {
      method: 'PATCH',
      token: tenant.staff.admin.token,
      body: { role: 'member' },
    })
    expectStatus(demoted, 200)

    expectStale(await call('/v1/invitations', { token: tenant.staff.manager.token }), 'old token')
    // The token refreshed after the demotion carries the stored role: refused by role.
    const fresh = await staffToken(tenant, tenant.staff.manager, 'member', 2)
    expectProblem(await call('/v1/invitations', { token: fresh }), 403, 'forbidden')
    for (const path of memberReads(tenant)) {
      expectStatus(await call(path, { token: fresh }), 200)
    }
  })

  it('refuse a token whose user does not exist in its organization', async () => {
    const tenant = await seedTenant()
    const ghost = await staffToken(tenant, { id: crypto.randomUUID() }, 'owner')
    for (const path of [...memberReads(tenant), '/v1/invitations']) {
      expectStale(await call(path, { token: ghost }), path)
    }
  })
})
