import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  expectStatus,
  json,
  password,
  roundTrips,
  seedTenant,
  storedUser,
  tenantSnapshot,
  unique,
} from '../access/tenant'

const patchRole = (token: string, id: string, role: string) =>
  call(`/v1/users/${id}`, { method: 'PATCH', token, body: { role } })

const remove = (token: string, id: string) => call(`/v1/users/${id}`, { method: 'DELETE', token })

const createClient = (token: string) =>
  call('/v1/clients', { token, body: { name: `Client ${unique()}` } })

describe('users', () => {
  it('lists active staff with keyset pages', async () => {
    const tenant = await seedTenant()
    const first = await call('/v1/users?limit=3', { token: tenant.staff.member.token })
    expectStatus(first, 200)
    expect(roundTrips(first)).toBe(1)
    const page = json<{ data: { id: string }[]; nextCursor: string | null }>(first)
    expect(page.data).toHaveLength(3)
    expect(page.nextCursor).toEqual(expect.any(String))

    const second = await call(`/v1/users?limit=3&cursor=${page.nextCursor}`, {
      token: tenant.staff.member.token,
    })
    const rest = json<{ data: { id: string }[]; nextCursor: string | null }>(second)
    expect(rest.data).toHaveLength(1)
    expect(rest.nextCursor).toBeNull()
    const ids = [...page.data, ...rest.data].map((user) => user.id).sort()
    expect(ids).toEqual(Object.values(tenant.staff).map((user) => user.id).sort())
    expect(first.text).not.toMatch(/password|authVersion|removed/i)
  })

  it('refuses a forged cursor with 400, not a database error', async () => {
    const tenant = await seedTenant()
    const forged = btoa(JSON.stringify(['not-a-number', 'x'])).replace(/=+$/, '')
    expectProblem(
      await call(`/v1/users?cursor=${forged}`, { token: tenant.staff.member.token }),
      400,
      'validation_failed',
    )
    expectProblem(
      await call('/v1/users?cursor=%%%', { token: tenant.staff.member.token }),
      400,
      'validation_failed',
    )
    expectProblem(
      await call('/v1/users?limit=101', { token: tenant.staff.member.token }),
      400,
      'validation_failed',
    )
  })

  it('changes a role; the demoted user loses sensitive access at once', async () => {
    const tenant = await seedTenant()
    expectStatus(await createClient(tenant.staff.manager.token), 201)

    const changed = await patchRole(tenant.staff.admin.token, tenant.staff.manager.id, 'member')
    expectStatus(changed, 200)
    expect(roundTrips(changed)).toBe(1)
    expect(json(changed)).toMatchObject({ id: tenant.staff.manager.id, role: 'member' })
    const stored = await storedUser(tenant.staff.manager.id)
    expect(stored).toMatchObject({ role: 'member', authVersion: 2 })

    // The old token still says manager and has not expired; the write is refused anyway.
    const before = await tenantSnapshot(tenant.organization.id)
    const refused = await createClient(tenant.staff.manager.token)
    expectProblem(refused, 401, 'unauthorized')
    expect(roundTrips(refused)).toBe(1)
    expectProblem(await call('/v1/me', { token: tenant.staff.manager.token }), 401, 'unauthorized')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('a role change shows up in the next refresh', async () => {
    const tenant = await seedTenant()
    const login = await call('/v1/auth/login', {
      body: { organization: tenant.organization.slug, email: tenant.staff.member.email, password },
    })
    const { refreshToken } = json<{ refreshToken: string }>(login)
    expectStatus(await patchRole(tenant.staff.owner.token, tenant.staff.member.id, 'admin'), 200)

    const refreshed = await call('/v1/auth/refresh', { body: { refreshToken } })
    expectStatus(refreshed, 200)
    const session = json<{ accessToken: string; user: { role: string } }>(refreshed)
    expect(session.user.role).toBe('admin')
    expectStatus(await createClient(session.accessToken), 201)
  })

  it('removes a user: tokens refused at once, refresh tokens revoked, login refused', async () => {
    const tenant = await seedTenant()
    const credentials = {
      organization: tenant.organization.slug,
      email: tenant.staff.manager.email,
      password,
    }
    const login = await call('/v1/auth/login', { body: credentials })
    const session = json<{ accessToken: string; refreshToken: string }>(login)

    const removed = await remove(tenant.staff.admin.token, tenant.staff.manager.id)
    expectStatus(removed, 204)
    expect(roundTrips(removed)).toBe(1)

    expectProblem(await createClient(session.accessToken), 401, 'unauthorized')
    expectProblem(
      await call('/v1/auth/refresh', { body: { refreshToken: session.refreshToken } }),
      401,
      'unauthorized',
    )
    expectProblem(await call('/v1/auth/login', { body: credentials }), 401, 'unauthorized')
    const users = await call('/v1/users', { token: tenant.staff.admin.token })
    const list = json<{ data: { id: string }[] }>(users)
    expect(list.data.map((user) => user.id)).not.toContain(tenant.staff.manager.id)
    expectProblem(await remove(tenant.staff.admin.token, tenant.staff.manager.id), 404, 'not_found')
  })

  it('applies the rank rule and refuses self-changes, writing nothing', async () => {
    const tenant = await seedTenant()
    const { owner, admin, manager, member } = tenant.staff
    const before = await tenantSnapshot(tenant.organization.id)

    expectProblem(await patchRole(manager.token, admin.id, 'member'), 403, 'forbidden')
    expectProblem(await patchRole(manager.token, member.id, 'admin'), 403, 'forbidden')
    expectProblem(await patchRole(admin.token, owner.id, 'member'), 403, 'forbidden')
    expectProblem(await remove(admin.token, owner.id), 403, 'forbidden')
    expectProblem(await patchRole(owner.token, owner.id, 'member'), 409, 'conflict')
    expectProblem(await remove(owner.token, owner.id), 409, 'conflict')
    expectProblem(await patchRole(member.token, member.id, 'member'), 403, 'forbidden')

    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)

    expectStatus(await patchRole(manager.token, member.id, 'manager'), 200)
    expectStatus(await patchRole(owner.token, admin.id, 'owner'), 200)
  })

  it('a removed user invited again comes back with the new role and password', async () => {
    const tenant = await seedTenant()
    expectStatus(await remove(tenant.staff.owner.token, tenant.staff.member.id), 204)

    const invited = await call('/v1/invitations', {
      token: tenant.staff.owner.token,
      body: { email: tenant.staff.member.email, role: 'manager' },
    })
    expectStatus(invited, 201)
    const mail = await call(`/v1/dev/outbox?to=${encodeURIComponent(tenant.staff.member.email)}`)
    const text = json<{ data: { text: string }[] }>(mail).data[0]?.text ?? ''
    const token = text.match(/cmi_[A-Za-z0-9_-]{43}/)?.[0]

    const accepted = await call('/v1/invitations/accept', {
      body: { token, password: 'back again and stronger' },
    })
    expectStatus(accepted, 201)
    const session = json<{ user: { id: string; role: string } }>(accepted)
    expect(session.user).toMatchObject({ id: tenant.staff.member.id, role: 'manager' })
    // The old token was issued before removal: its version is stale for good.
    expectProblem(await call('/v1/me', { token: tenant.staff.member.token }), 401, 'unauthorized')
  })
})
