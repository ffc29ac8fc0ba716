// Idempotency-Key on the staff and client creations: a retry with the same key and body
// replays the stored answer and changes nothing; another body with the key is a 422; a
// malformed key is a 400. The key's record is written in the change's own batch (one round
// trip), and a refused attempt leaves no record behind.
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  type Api,
  call,
  database,
  expectProblem,
  expectStatus,
  roundTrips,
  seedTenant,
  type Tenant,
  tenantSnapshot,
  unique,
} from '../access/tenant'

interface KeyedRoute {
  name: string
  path: (t: Tenant) => string
  /** A valid body; `variant` changes a field, so two variants are two different requests. */
  body: (variant: string) => unknown
  /** Rows of what the route creates, in the tenant. */
  table: string
}

const routes: KeyedRoute[] = [
  {
    name: 'POST /v1/clients',
    path: () => '/v1/clients',
    body: (variant) => ({ name: `Northwind ${variant}` }),
    table: 'clients',
  },
  {
    name: 'POST /v1/clients/{id}/contacts',
    path: (t) => `/v1/clients/${t.client.id}/contacts`,
    body: (variant) => ({ email: `pat-${variant}@client.test`, name: 'Pat' }),
    table: 'client_contacts',
  },
  {
    name: 'POST /v1/invitations',
    path: () => '/v1/invitations',
    body: (variant) => ({ email: `new-${variant}@firm.test`, role: 'member' }),
    table: 'invitations',
  },
]

const keyed = (key: string) => ({ 'idempotency-key': key })

async function count(table: string, tenant: Tenant, extra = sql``) {
  const result = await database().execute(sql`
    select count(*)::int as n from ${sql.identifier(table)}
    where organization_id = ${tenant.organization.id}::uuid ${extra}`)
  return (result as unknown as { rows: { n: number }[] }).rows[0]?.n
}

const storedKeys = (tenant: Tenant, key: string) =>
  count('idempotency_keys', tenant, sql`and key = ${key}::text`)

const send = (route: KeyedRoute, tenant: Tenant, body: unknown, headers = {}, token?: string) =>
  call(route.path(tenant), { token: token ?? tenant.staff.manager.token, body, headers })

function expectReplayOf(first: Api, again: Api) {
  expectStatus(again, 201)
  expect(again.headers.get('idempotent-replayed'), again.text).toBe('true')
  expect(again.body).toEqual(first.body)
  expect(roundTrips(again)).toBe(1)
}

describe.each(routes)('$name with Idempotency-Key', (route) => {
  it('a retry with the same key and body replays the answer and writes nothing', async () => {
    const tenant = await seedTenant()
    const body = route.body(unique())
    const key = crypto.randomUUID()

    const first = await send(route, tenant, body, keyed(key))
    expectStatus(first, 201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    expect(roundTrips(first)).toBe(1)
    expect(await storedKeys(tenant, key)).toBe(1)
    const rows = await count(route.table, tenant)
    const before = await tenantSnapshot(tenant.organization.id)

    expectReplayOf(first, await send(route, tenant, body, keyed(key)))
    expectReplayOf(first, await send(route, tenant, body, keyed(`"${key}"`)))
    // Nothing at all: no second row, no second sign-in link, no second mail.
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
    expect(await count(route.table, tenant)).toBe(rows)
  })

  it('the same key with another body is a 422 and writes nothing', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    expectStatus(await send(route, tenant, route.body(unique()), keyed(key)), 201)
    const before = await tenantSnapshot(tenant.organization.id)

    const other = await send(route, tenant, route.body(unique()), keyed(key))
    expectProblem(other, 422, 'idempotency_key_reused')
    expect(roundTrips(other)).toBe(1)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('a malformed key is a 400 naming the header, before any query', async () => {
    const tenant = await seedTenant()
    const before = await tenantSnapshot(tenant.organization.id)
    for (const key of ['x'.repeat(256), 'x'.repeat(300), 'has space', '']) {
      const refused = await send(route, tenant, route.body(unique()), keyed(key))
      expectProblem(refused, 400, 'validation_failed')
      expect(refused.text, key).toContain('"path":"header.idempotency-key"')
      expect(roundTrips(refused)).toBe(0)
    }
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('keys belong to one user: a colleague’s identical key is a request of its own', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    const rows = await count(route.table, tenant)

    expectStatus(await send(route, tenant, route.body(unique()), keyed(key)), 201)
    const theirs = await send(
      route,
      tenant,
      route.body(unique()),
      keyed(key),
      tenant.staff.admin.token,
    )
    expectStatus(theirs, 201)
    expect(theirs.headers.get('idempotent-replayed')).toBeNull()
    expect(await count(route.table, tenant)).toBe((rows ?? 0) + 2)
  })

  it('a removed user cannot replay their own stored answer', async () => {
    const tenant = await seedTenant()
    const body = route.body(unique())
    const key = crypto.randomUUID()
    expectStatus(await send(route, tenant, body, keyed(key)), 201)
    const removed = await call(`/v1/users/${tenant.staff.manager.id}`, {
      method: 'DELETE',
      token: tenant.staff.admin.token,
    })
    expectStatus(removed, 204)

    const replay = await send(route, tenant, body, keyed(key))
    expectProblem(replay, 401, 'unauthorized')
    expect(replay.text).not.toContain('"id"')
  })

  it('a refused attempt (stale token) leaves no key behind', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    const stale = await send(route, tenant, route.body(unique()), keyed(key), await demoted(tenant))
    expectProblem(stale, 401, 'unauthorized')
    expect(await storedKeys(tenant, key)).toBe(0)
  })
})

/** The manager's token after an admin demoted them: unexpired, but stale. */
async function demoted(tenant: Tenant) {
  const changed = await call(`/v1/users/${tenant.staff.manager.id}`, {
    method: 'PATCH',
    token: tenant.staff.admin.token,
    body: { role: 'member' },
  })
  expectStatus(changed, 200)
  return tenant.staff.manager.token
}

describe('retries that used to conflict', () => {
  it('a retried contact creation replays instead of answering 409 for its own email', async () => {
    const tenant = await seedTenant()
    const body = { email: `retry-${unique()}@client.test`, name: 'Pat' }
    const path = `/v1/clients/${tenant.client.id}/contacts`
    const token = tenant.staff.manager.token
    const key = crypto.randomUUID()

    const first = await call(path, { token, body, headers: keyed(key) })
    expectStatus(first, 201)
    expectReplayOf(first, await call(path, { token, body, headers: keyed(key) }))
    // Without the key, the same body is a new request, and the email is taken.
    expectProblem(await call(path, { token, body }), 409, 'conflict')
  })

  it('a retried invitation replays, mails once, and the invitation still works', async () => {
    const tenant = await seedTenant()
    const email = `invitee-${unique()}@firm.test`
    const body = { email, role: 'member' }
    const token = tenant.staff.manager.token
    const key = crypto.randomUUID()

    const first = await call('/v1/invitations', { token, body, headers: keyed(key) })
    expectStatus(first, 201)
    expectReplayOf(first, await call('/v1/invitations', { token, body, headers: keyed(key) }))
    expect(await count('email_outbox', tenant, sql`and "to" = ${email}`)).toBe(1)
    expectProblem(await call('/v1/invitations', { token, body }), 409, 'conflict')
  })

  it('without a key, two identical client creations are two clients (unchanged)', async () => {
    const tenant = await seedTenant()
    const body = { name: `Twice ${unique()}` }
    const token = tenant.staff.manager.token
    expectStatus(await call('/v1/clients', { token, body }), 201)
    expectStatus(await call('/v1/clients', { token, body }), 201)
    expect(await count('clients', tenant, sql`and name = ${body.name}`)).toBe(2)
  })
})
