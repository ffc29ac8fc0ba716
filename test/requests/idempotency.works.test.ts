import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { idempotencyLockId } from '../../src/platform/idempotency'
import {
  call,
  database,
  expectProblem,
  expectStatus,
  json,
  seedTenant,
  type Tenant,
  tenantSnapshot,
} from '../access/tenant'
import { actions, createRequest, importCsv, pbcList, sentRequest } from './support'

const keyed = (key: string) => ({ 'idempotency-key': key })

async function requestCount(tenant: Tenant) {
  const result = await database().execute(sql`
    select count(*)::int as n from requests
    where organization_id = ${tenant.organization.id}::uuid`)
  return (result as unknown as { rows: { n: number }[] }).rows[0]?.n
}

describe('Idempotency-Key', () => {
  it('a retry with the same key and body replays the stored response', async () => {
    const tenant = await seedTenant()
    const options = {
      token: tenant.staff.manager.token,
      body: { clientId: tenant.client.id, title: 'Once only' },
      headers: keyed(crypto.randomUUID()),
    }
    const first = await call('/v1/requests', options)
    expectStatus(first, 201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const before = await tenantSnapshot(tenant.organization.id)

    const second = await call('/v1/requests', options)
    expectStatus(second, 201)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(second.body).toEqual(first.body)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
    expect(await requestCount(tenant)).toBe(1)
  })

  it('the same key with another body is a 422, and nothing is written', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    const token = tenant.staff.manager.token
    expectStatus(
      await call('/v1/requests', {
        token,
        body: { clientId: tenant.client.id, title: 'A' },
        headers: keyed(key),
      }),
      201,
    )
    const before = await tenantSnapshot(tenant.organization.id)
    const other = await call('/v1/requests', {
      token,
      body: { clientId: tenant.client.id, title: 'B' },
      headers: keyed(key),
    })
    expectProblem(other, 422, 'idempotency_key_reused')
    // The same key on another route is another request too.
    const elsewhere = await call(`/v1/requests/${json<{ id: string }>(await call('/v1/requests', {
      token,
      body: { clientId: tenant.client.id, title: 'A' },
      headers: keyed(key),
    })).id}/comments`, { token, body: { body: 'hi' }, headers: keyed(key) })
    expectProblem(elsewhere, 422, 'idempotency_key_reused')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('keys belong to one caller: another user’s identical key is a separate request', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    const body = { clientId: tenant.client.id, title: 'Same key, two people' }
    for (const role of ['manager', 'admin'] as const) {
      const response = await call('/v1/requests', {
        token: tenant.staff[role].token,
        body,
        headers: keyed(key),
      })
      expectStatus(response, 201)
      expect(response.headers.get('idempotent-replayed')).toBeNull()
    }
    expect(await requestCount(tenant)).toBe(2)
  })

  it('a refused first attempt is not remembered, so the retry runs again', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const key = crypto.randomUUID()
    const send = () =>
      call(`/v1/requests/${request.id}/transitions`, {
        token: tenant.staff.manager.token,
        body: { to: 'completed' },
        headers: keyed(key),
      })
    expectProblem(await send(), 409, 'invalid_transition')
    expectProblem(await send(), 409, 'invalid_transition')
    const stored = await database().execute(sql`
      select count(*)::int as n from idempotency_keys where key = ${key}::text`)
    expect((stored as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(0)
  })

  it('a retried transition replays its success instead of failing as illegal', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const options = {
      token: tenant.staff.manager.token,
      body: { to: 'sent' },
      headers: keyed(crypto.randomUUID()),
    }
    expectStatus(await call(`/v1/requests/${request.id}/transitions`, options), 200)
    const retry = await call(`/v1/requests/${request.id}/transitions`, options)
    expectStatus(retry, 200)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(await actions(request.id)).toEqual(['request.created', 'request.sent'])
  })

  it('covers item creation, review, comments, portal comments and imports', async () => {
    const tenant = await seedTenant()
    const { request } = await sentRequest(tenant, 0)
    const token = tenant.staff.manager.token
    const twice = async (path: string, options: Parameters<typeof call>[1]) => {
      const first = await call(path, options)
      const second = await call(path, options)
      expect(second.status, second.text).toBe(first.status)
      expect(second.headers.get('idempotent-replayed'), second.text).toBe('true')
      expect(second.body).toEqual(first.body)
    }
    await twice(`/v1/requests/${request.id}/items`, {
      token,
      body: { reference: 'T-1', title: 'Item' },
      headers: keyed(crypto.randomUUID()),
    })
    await twice(`/v1/requests/${request.id}/comments`, {
      token,
      body: { body: 'Staff note' },
      headers: keyed(crypto.randomUUID()),
    })
    await twice(`/v1/portal/requests/${request.id}/comments`, {
      token: tenant.portal.token,
      body: { body: 'Client note' },
      headers: keyed(crypto.randomUUID()),
    })
    const key = crypto.randomUUID()
    const first = await importCsv(tenant, request.id, pbcList, { headers: keyed(key) })
    const second = await importCsv(tenant, request.id, pbcList, { headers: keyed(key) })
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(second.body).toEqual(first.body)
    const trail = await actions(request.id)
    expect(trail.filter((action) => action === 'comment.added')).toHaveLength(2)
    expect(trail.filter((action) => action === 'request.imported')).toHaveLength(1)
    expect(trail.filter((action) => action === 'item.created')).toHaveLength(28)
  })

  it('an expired key is taken over by the next request', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    const token = tenant.staff.manager.token
    const create = (title: string) =>
      call('/v1/requests', {
        token,
        body: { clientId: tenant.client.id, title },
        headers: keyed(key),
      })
    expectStatus(await create('Monday'), 201)
    await database().execute(sql`
      update idempotency_keys set expires_at = now() - interval '1 second'
      where key = ${key}::text`)
    const later = await create('Tuesday')
    expectStatus(later, 201)
    expect(later.headers.get('idempotent-replayed')).toBeNull()
    expect(await requestCount(tenant)).toBe(2)
  })

  it('refuses a malformed key', async () => {
    const tenant = await seedTenant()
    const response = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body: { clientId: tenant.client.id, title: 'x' },
      headers: keyed('x'.repeat(256)),
    })
    expectProblem(response, 400, 'validation_failed')
  })

  // PGlite runs one statement at a time, so two requests can never overlap there; on a real
  // PostgreSQL (TEST_DATABASE_URL) the first request's transaction can still be running.
  const realPostgres = String(env.TEST_BACKENDS ?? '').includes('postgres')

  it.skipIf(!realPostgres)('while the first is still running, the retry gets 409', async () => {
    const tenant = await seedTenant()
    const key = crypto.randomUUID()
    const scope = {
      organizationId: tenant.organization.id,
      principalId: tenant.staff.manager.id,
      key,
    }
    const db = database()
    // Stand-in for a slow first request: a transaction that holds the key for a moment.
    const first = db.batch([
      db.execute(sql`select pg_advisory_xact_lock(${idempotencyLockId(scope)})`),
      db.execute(sql`select pg_sleep(1.5)`),
    ])
    await new Promise((resolve) => setTimeout(resolve, 300))
    const body = { clientId: tenant.client.id, title: 'Racing' }
    const retry = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body,
      headers: keyed(key),
    })
    expectProblem(retry, 409, 'idempotency_in_progress')
    expect(retry.headers.get('retry-after')).toBe('1')
    await first

    const after = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body,
      headers: keyed(key),
    })
    expectStatus(after, 201)
    expect(await requestCount(tenant)).toBe(1)
  })
})
