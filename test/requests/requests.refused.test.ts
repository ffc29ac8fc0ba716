import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { StaffRole } from '../../src/auth/roles'
import {
  call,
  database,
  expectProblem,
  expectStatus,
  json,
  seedTenant,
  staffRoleList,
  type Tenant,
  tenantSnapshot,
} from '../access/tenant'
import { actions, createItem, createRequest, type RequestBody, transition } from './support'

/** Each manager-level write, as the given role. */
const writes: { name: string; run: (tenant: Tenant, token: string) => ReturnType<typeof call> }[] =
  [
    {
      name: 'create',
      run: (tenant, token) =>
        call('/v1/requests', { token, body: { clientId: tenant.client.id, title: 'x' } }),
    },
    {
      name: 'edit',
      run: async (tenant, token) =>
        call(`/v1/requests/${(await createRequest(tenant)).id}`, {
          method: 'PATCH',
          token,
          body: { title: 'y' },
        }),
    },
    {
      name: 'send',
      run: async (tenant, token) =>
        call(`/v1/requests/${(await createRequest(tenant)).id}/transitions`, {
          token,
          body: { to: 'sent' },
        }),
    },
    {
      name: 'cancel',
      run: async (tenant, token) =>
        call(`/v1/requests/${(await createRequest(tenant)).id}/transitions`, {
          token,
          body: { to: 'cancelled' },
        }),
    },
    {
      name: 'assign',
      run: async (tenant, token) =>
        call(`/v1/requests/${(await createRequest(tenant)).id}/assignee`, {
          method: 'PUT',
          token,
          body: { assigneeId: null },
        }),
    },
    {
      name: 'delete',
      run: async (tenant, token) =>
        call(`/v1/requests/${(await createRequest(tenant)).id}`, { method: 'DELETE', token }),
    },
  ]

const allowed: Record<StaffRole, boolean> = {
  owner: true,
  admin: true,
  manager: true,
  member: false,
}

describe('requests: who may do what', () => {
  for (const write of writes) {
    it.each(staffRoleList)(`${write.name} as %s`, async (role) => {
      const tenant = await seedTenant()
      const response = await write.run(tenant, tenant.staff[role].token)
      if (allowed[role]) expect(response.status, response.text).toBeLessThan(300)
      else expectProblem(response, 403, 'forbidden')
    })
  }

  it('refuses anonymous callers and portal tokens on staff routes', async () => {
    const tenant = await seedTenant()
    expectProblem(await call('/v1/requests'), 401, 'unauthorized')
    expectProblem(await call('/v1/requests', { token: tenant.portal.token }), 401, 'unauthorized')
  })
})

describe('requests: the stored actor decides, not only the token', () => {
  it('a removed user is refused at once, on reads and writes, and nothing is written', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    await database().execute(
      sql`update users set removed_at = now() where id = ${tenant.staff.manager.id}::uuid`,
    )
    const before = await tenantSnapshot(tenant.organization.id)

    const send = await transition(tenant, request.id, 'sent')
    expectProblem(send, 401, 'unauthorized')
    const read = await call(`/v1/requests/${request.id}`, { token: tenant.staff.manager.token })
    expectProblem(read, 401, 'unauthorized')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('a bumped auth version ends the old token', async () => {
    const tenant = await seedTenant()
    await database().execute(sql`
      update users set auth_version = auth_version + 1 where id = ${tenant.staff.manager.id}::uuid`)
    const response = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body: { clientId: tenant.client.id, title: 'x' },
    })
    expectProblem(response, 401, 'unauthorized')
  })

  it('a role lowered in the database is refused even with a manager token', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    await database().execute(
      sql`update users set role = 'member' where id = ${tenant.staff.manager.id}::uuid`,
    )
    const response = await transition(tenant, request.id, 'sent')
    expectProblem(response, 403, 'forbidden')
    expect(await actions(request.id)).toEqual(['request.created'])
  })
})

describe('requests: illegal moves and bad input', () => {
  it.each([
    ['draft', 'completed'],
    ['draft', 'in_progress'],
  ])('%s → %s is a 409', async (_from, to) => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const response = await transition(tenant, request.id, to)
    expectProblem(response, 409, 'invalid_transition')
    expect(await actions(request.id)).toEqual(['request.created'])
  })

  it('closed requests stay closed', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await transition(tenant, request.id, 'cancelled'), 200)
    expectProblem(await transition(tenant, request.id, 'sent'), 409, 'invalid_transition')
    expectProblem(await transition(tenant, request.id, 'cancelled'), 409, 'invalid_transition')
    const edit = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { title: 'too late' },
    })
    expectProblem(edit, 409, 'conflict')
  })

  it('completing with items not yet accepted is refused and says how many', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    await createItem(tenant, request.id, { reference: 'A-1' })
    await createItem(tenant, request.id, { reference: 'A-2' })
    expectStatus(await transition(tenant, request.id, 'sent'), 200)
    expectStatus(await transition(tenant, request.id, 'in_progress'), 200)
    const response = await transition(tenant, request.id, 'completed')
    expectProblem(response, 409, 'invalid_transition')
    expect(json<{ detail: string }>(response).detail).toContain('2 item(s)')
  })

  it('a stale If-Match is a 412 and changes nothing', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const read = await call(`/v1/requests/${request.id}`, { token: tenant.staff.manager.token })
    const tag = read.headers.get('etag') ?? ''
    expectStatus(
      await call(`/v1/requests/${request.id}`, {
        method: 'PATCH',
        token: tenant.staff.manager.token,
        body: { title: 'first writer' },
        headers: { 'if-match': tag },
      }),
      200,
    )
    for (const attempt of [
      { method: 'PATCH', body: { title: 'second writer' } },
      { method: 'POST', path: '/transitions', body: { to: 'sent' } },
      { method: 'PUT', path: '/assignee', body: { assigneeId: null } },
      { method: 'DELETE' },
    ]) {
      const response = await call(`/v1/requests/${request.id}${attempt.path ?? ''}`, {
        method: attempt.method,
        token: tenant.staff.manager.token,
        ...(attempt.body ? { body: attempt.body } : {}),
        headers: { 'if-match': tag },
      })
      expectProblem(response, 412, 'precondition_failed')
    }
    const after = await call(`/v1/requests/${request.id}`, { token: tenant.staff.manager.token })
    expect(json<RequestBody>(after)).toMatchObject({ title: 'first writer', status: 'draft' })
    // A weak tag never satisfies If-Match (strong comparison, RFC 9110 §13.1.1).
    const weak = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { title: 'weak' },
      headers: { 'if-match': `W/${after.headers.get('etag')}` },
    })
    expectProblem(weak, 412, 'precondition_failed')
  })

  it('refuses unknown fields, empty edits and malformed values with field paths', async () => {
    const tenant = await seedTenant()
    const unknown = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body: { clientId: tenant.client.id, title: 'x', status: 'completed' },
    })
    expectProblem(unknown, 400, 'validation_failed')
    expect(json<{ errors: unknown[] }>(unknown).errors).toContainEqual(
      expect.objectContaining({ path: 'body.status', code: 'unknown_field' }),
    )
    const request = await createRequest(tenant)
    const empty = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: {},
    })
    expectProblem(empty, 400, 'validation_failed')
    const badDate = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { dueDate: '31/12/2026' },
    })
    expectProblem(badDate, 400, 'validation_failed')
    const badTarget = await transition(tenant, request.id, 'draft')
    expectProblem(badTarget, 400, 'validation_failed')
  })

  it('a client or assignee from elsewhere is a 422, and nothing is created', async () => {
    const tenant = await seedTenant()
    const other = await seedTenant()
    const before = await tenantSnapshot(tenant.organization.id)
    const client = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body: { clientId: other.client.id, title: 'x' },
    })
    expectProblem(client, 422, 'unprocessable')
    expect(json<{ errors: { path: string }[] }>(client).errors[0]?.path).toBe('body.clientId')
    const assignee = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body: { clientId: tenant.client.id, title: 'x', assigneeId: other.staff.member.id },
    })
    expectProblem(assignee, 422, 'unprocessable')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('refuses a limit over 100, a forged cursor and a cursor of another ordering', async () => {
    const tenant = await seedTenant()
    const token = tenant.staff.member.token
    expectProblem(await call('/v1/requests?limit=101', { token }), 400, 'validation_failed')
    expectProblem(await call('/v1/requests?cursor=bm9wZQ', { token }), 400, 'validation_failed')
    await createRequest(tenant)
    await createRequest(tenant)
    const page = await call('/v1/requests?limit=1&sort=dueDate', { token })
    const cursor = json<{ nextCursor: string }>(page).nextCursor
    expect(cursor).toEqual(expect.any(String))
    expectProblem(
      await call(`/v1/requests?limit=1&sort=createdAt&cursor=${cursor}`, { token }),
      400,
      'validation_failed',
    )
    expectProblem(await call('/v1/requests?status=draft,nope', { token }), 400, 'validation_failed')
  })
})

describe('requests: tenancy', () => {
  it('another organization’s request is a 404 on every route, and stays untouched', async () => {
    const tenant = await seedTenant()
    const other = await seedTenant()
    const theirs = await createRequest(other)
    const token = tenant.staff.owner.token
    const before = await tenantSnapshot(other.organization.id)
    const attempts = [
      call(`/v1/requests/${theirs.id}`, { token }),
      call(`/v1/requests/${theirs.id}`, { method: 'PATCH', token, body: { title: 'mine' } }),
      call(`/v1/requests/${theirs.id}`, { method: 'DELETE', token }),
      call(`/v1/requests/${theirs.id}/transitions`, { token, body: { to: 'sent' } }),
      call(`/v1/requests/${theirs.id}/assignee`, {
        method: 'PUT',
        token,
        body: { assigneeId: null },
      }),
      call(`/v1/requests/${theirs.id}/items`, { token }),
      call(`/v1/requests/${theirs.id}/items`, { token, body: { reference: 'Z', title: 'z' } }),
      call(`/v1/requests/${theirs.id}/comments`, { token }),
      call(`/v1/requests/${theirs.id}/comments`, { token, body: { body: 'hello' } }),
      call(`/v1/requests/${theirs.id}/activity`, { token }),
    ]
    for (const response of await Promise.all(attempts)) expectProblem(response, 404, 'not_found')
    expect(await tenantSnapshot(other.organization.id)).toEqual(before)
    const list = await call('/v1/requests', { token })
    expect(json<{ data: unknown[] }>(list).data).toEqual([])
  })
})
