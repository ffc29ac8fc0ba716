import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  expectStatus,
  json,
  latestMail,
  roundTrips,
  seedTenant,
  tenantSnapshot,
  tokenIn,
  unique,
} from '../access/tenant'

interface Invitation {
  id: string
  email: string
  role: string
  status: string
}

async function invite(token: string, email: string, role: string, name?: string) {
  return call('/v1/invitations', { token, body: { email, role, ...(name ? { name } : {}) } })
}

describe('invitations', () => {
  it('invites by email, mails a single-use link, and accepting signs the new user in', async () => {
    const tenant = await seedTenant()
    const email = `New.${unique()}@Firm.test`

    const created = await invite(tenant.staff.admin.token, email, 'manager', 'Grace')
    expectStatus(created, 201)
    expect(roundTrips(created)).toBe(1)
    const invitation = json<Invitation>(created)
    const stored = { email: email.toLowerCase(), role: 'manager', status: 'pending' }
    expect(invitation).toMatchObject(stored)
    expect(created.text).not.toMatch(/token/i)

    const mail = await latestMail(email.toLowerCase())
    expect(mail?.kind).toBe('staff_invitation')
    const token = tokenIn(mail?.text ?? '', 'cmi_')

    const accepted = await call('/v1/invitations/accept', {
      body: { token, password: 'a brand new password' },
    })
    expectStatus(accepted, 201)
    expect(roundTrips(accepted)).toBe(1)
    const session = json<{ accessToken: string; user: Record<string, string> }>(accepted)
    expect(session.user).toMatchObject({ role: 'manager', name: 'Grace', email: stored.email })
    expectStatus(await call('/v1/me', { token: session.accessToken }), 200)

    const login = await call('/v1/auth/login', {
      body: { organization: tenant.organization.slug, email, password: 'a brand new password' },
    })
    expectStatus(login, 200)

    // Single use: the second acceptance is refused and writes nothing.
    const before = await tenantSnapshot(tenant.organization.id)
    const again = await call('/v1/invitations/accept', {
      body: { token, password: 'another new password' },
    })
    expectProblem(again, 401, 'unauthorized')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('lists pending invitations and revokes one, which then cannot be accepted', async () => {
    const tenant = await seedTenant()
    const email = `pending-${unique()}@firm.test`
    const created = json<Invitation>(await invite(tenant.staff.manager.token, email, 'member'))

    const list = await call('/v1/invitations', { token: tenant.staff.manager.token })
    expectStatus(list, 200)
    expect(roundTrips(list)).toBe(1)
    expect(json<{ data: Invitation[] }>(list).data.map((row) => row.id)).toEqual([created.id])

    const revoked = await call(`/v1/invitations/${created.id}`, {
      method: 'DELETE',
      token: tenant.staff.manager.token,
    })
    expectStatus(revoked, 204)
    expect(roundTrips(revoked)).toBe(1)
    const token = tokenIn((await latestMail(email))?.text ?? '', 'cmi_')
    expectProblem(
      await call('/v1/invitations/accept', { body: { token, password: 'some long password' } }),
      401,
      'unauthorized',
    )
    const after = await call('/v1/invitations', { token: tenant.staff.manager.token })
    expect(json<{ data: Invitation[] }>(after).data).toEqual([])
  })

  it('refuses a second live invitation and an existing member with 409', async () => {
    const tenant = await seedTenant()
    const email = `twice-${unique()}@firm.test`
    expectStatus(await invite(tenant.staff.owner.token, email, 'member'), 201)
    expectProblem(await invite(tenant.staff.owner.token, email, 'member'), 409, 'conflict')
    const member = tenant.staff.member.email
    expectProblem(await invite(tenant.staff.owner.token, member, 'member'), 409, 'conflict')
  })

  it('enforces the grant rule: members invite nobody, managers cannot grant admin', async () => {
    const tenant = await seedTenant()
    const before = await tenantSnapshot(tenant.organization.id)
    const email = `rank-${unique()}@firm.test`

    expectProblem(await invite(tenant.staff.member.token, email, 'member'), 403, 'forbidden')
    expectProblem(await invite(tenant.staff.manager.token, email, 'admin'), 403, 'forbidden')
    expectProblem(await invite(tenant.staff.admin.token, email, 'owner'), 403, 'forbidden')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)

    expectStatus(await invite(tenant.staff.owner.token, email, 'owner'), 201)
  })
})
