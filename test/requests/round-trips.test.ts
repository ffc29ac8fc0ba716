// The performance budget: every endpoint of the workflow makes at most ONE database round
// trip (one query, or one batch for a write), read from the Server-Timing accounting.
import { describe, expect, it } from 'vitest'
import { type Api, call, expectStatus, seedTenant, type Tenant } from '../access/tenant'
import {
  createItem,
  createRequest,
  expectRoundTrips,
  importCsv,
  pbcList,
  sentRequest,
  submitItem,
} from './support'

interface Case {
  name: string
  status: number
  run: (tenant: Tenant) => Promise<Api>
}

const staff = (tenant: Tenant) => tenant.staff.manager.token

const cases: Case[] = [
  {
    name: 'GET /v1/requests (filtered, searched, sorted)',
    status: 200,
    run: async (tenant) => {
      await createRequest(tenant, { title: 'Needle in the list', priority: 'high' })
      return call('/v1/requests?q=needle&status=draft&priority=high,urgent&sort=-dueDate', {
        token: staff(tenant),
      })
    },
  },
  {
    name: 'GET /v1/requests?updatedSince (sync)',
    status: 200,
    run: async (tenant) => {
      await createRequest(tenant)
      return call('/v1/requests?updatedSince=2000-01-01T00:00:00Z', { token: staff(tenant) })
    },
  },
  {
    name: 'POST /v1/requests',
    status: 201,
    run: (tenant) =>
      call('/v1/requests', {
        token: staff(tenant),
        body: { clientId: tenant.client.id, title: 'T' },
      }),
  },
  {
    name: 'POST /v1/requests with Idempotency-Key, replayed',
    status: 201,
    run: async (tenant) => {
      const options = {
        token: staff(tenant),
        body: { clientId: tenant.client.id, title: 'Once' },
        headers: { 'idempotency-key': crypto.randomUUID() },
      }
      expectStatus(await call('/v1/requests', options), 201)
      return call('/v1/requests', options)
    },
  },
  {
    name: 'GET /v1/requests/{id}',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}`, { token: staff(tenant) })
    },
  },
  {
    name: 'PATCH /v1/requests/{id}',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}`, {
        method: 'PATCH',
        token: staff(tenant),
        body: { title: 'Renamed', dueDate: '2027-01-31' },
      })
    },
  },
  {
    name: 'DELETE /v1/requests/{id}',
    status: 204,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}`, { method: 'DELETE', token: staff(tenant) })
    },
  },
  {
    name: 'POST /v1/requests/{id}/transitions',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}/transitions`, {
        token: staff(tenant),
        body: { to: 'sent' },
      })
    },
  },
  {
    name: 'POST /v1/requests/{id}/transitions refused (409)',
    status: 409,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}/transitions`, {
        token: staff(tenant),
        body: { to: 'completed' },
      })
    },
  },
  {
    name: 'PUT /v1/requests/{id}/assignee',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}/assignee`, {
        method: 'PUT',
        token: staff(tenant),
        body: { assigneeId: tenant.staff.member.id },
      })
    },
  },
  {
    name: 'GET /v1/requests/{id}/items',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      expectStatus(await importCsv(tenant, request.id, pbcList), 200)
      return call(`/v1/requests/${request.id}/items?limit=10&q=bank`, { token: staff(tenant) })
    },
  },
  {
    name: 'POST /v1/requests/{id}/items',
    status: 201,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}/items`, {
        token: staff(tenant),
        body: { reference: 'A-1', title: 'Trial balance' },
      })
    },
  },
  {
    name: 'GET /v1/requests/{id}/items/{itemId}',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      const item = await createItem(tenant, request.id)
      return call(`/v1/requests/${request.id}/items/${item.id}`, { token: staff(tenant) })
    },
  },
  {
    name: 'PATCH /v1/requests/{id}/items/{itemId}',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      const item = await createItem(tenant, request.id)
      return call(`/v1/requests/${request.id}/items/${item.id}`, {
        method: 'PATCH',
        token: staff(tenant),
        body: { title: 'Renamed', position: 7 },
      })
    },
  },
  {
    name: 'DELETE /v1/requests/{id}/items/{itemId}',
    status: 204,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      const item = await createItem(tenant, request.id)
      return call(`/v1/requests/${request.id}/items/${item.id}`, {
        method: 'DELETE',
        token: staff(tenant),
      })
    },
  },
  {
    name: 'POST /v1/requests/{id}/items/{itemId}/accept',
    status: 200,
    run: async (tenant) => {
      const { request, items } = await sentRequest(tenant, 1)
      await submitItem(tenant, request.id, items[0]?.id ?? '')
      return call(`/v1/requests/${request.id}/items/${items[0]?.id}/accept`, {
        method: 'POST',
        token: staff(tenant),
      })
    },
  },
  {
    name: 'POST /v1/requests/{id}/items/{itemId}/return',
    status: 200,
    run: async (tenant) => {
      const { request, items } = await sentRequest(tenant, 1)
      await submitItem(tenant, request.id, items[0]?.id ?? '')
      return call(`/v1/requests/${request.id}/items/${items[0]?.id}/return`, {
        token: staff(tenant),
        body: { reason: 'Unsigned copy' },
      })
    },
  },
  {
    name: 'GET /v1/items (sync feed)',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      await createItem(tenant, request.id)
      return call('/v1/items?updatedSince=2000-01-01T00:00:00Z&status=open', {
        token: staff(tenant),
      })
    },
  },
  {
    name: 'POST /v1/requests/{id}/import',
    status: 200,
    run: async (tenant) => importCsv(tenant, (await createRequest(tenant)).id, pbcList),
  },
  {
    name: 'POST /v1/requests/{id}/import?dryRun=true',
    status: 200,
    run: async (tenant) =>
      importCsv(tenant, (await createRequest(tenant)).id, pbcList, { dryRun: true }),
  },
  {
    name: 'GET /v1/requests/{id}/comments',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      expectStatus(
        await call(`/v1/requests/${request.id}/comments`, {
          token: staff(tenant),
          body: { body: 'Note', internal: true },
        }),
        201,
      )
      return call(`/v1/requests/${request.id}/comments`, { token: staff(tenant) })
    },
  },
  {
    name: 'POST /v1/requests/{id}/comments',
    status: 201,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}/comments`, {
        token: tenant.staff.member.token,
        body: { body: 'Looks good' },
      })
    },
  },
  {
    name: 'GET /v1/requests/{id}/activity',
    status: 200,
    run: async (tenant) => {
      const request = await createRequest(tenant)
      return call(`/v1/requests/${request.id}/activity`, { token: staff(tenant) })
    },
  },
  {
    name: 'GET /v1/portal/requests',
    status: 200,
    run: async (tenant) => {
      await sentRequest(tenant, 1)
      return call('/v1/portal/requests', { token: tenant.portal.token })
    },
  },
  {
    name: 'GET /v1/portal/requests/{id}',
    status: 200,
    run: async (tenant) => {
      const { request } = await sentRequest(tenant, 1)
      return call(`/v1/portal/requests/${request.id}`, { token: tenant.portal.token })
    },
  },
  {
    name: 'GET /v1/portal/requests/{id}/items',
    status: 200,
    run: async (tenant) => {
      const { request } = await sentRequest(tenant, 2)
      return call(`/v1/portal/requests/${request.id}/items`, { token: tenant.portal.token })
    },
  },
  {
    name: 'GET /v1/portal/requests/{id}/comments',
    status: 200,
    run: async (tenant) => {
      const { request } = await sentRequest(tenant, 1)
      return call(`/v1/portal/requests/${request.id}/comments`, { token: tenant.portal.token })
    },
  },
  {
    name: 'POST /v1/portal/requests/{id}/comments (starts the request)',
    status: 201,
    run: async (tenant) => {
      const { request } = await sentRequest(tenant, 1)
      return call(`/v1/portal/requests/${request.id}/comments`, {
        token: tenant.portal.token,
        body: { body: 'Uploading this week' },
      })
    },
  },
  {
    name: 'GET /v1/requests/{id} of another organization (404)',
    status: 404,
    run: async (tenant) => {
      const other = await seedTenant()
      const request = await createRequest(other)
      return call(`/v1/requests/${request.id}`, { token: staff(tenant) })
    },
  },
]

describe('round-trip budget: one database round trip per endpoint', () => {
  it.each(cases)('$name', async ({ status, run }) => {
    const tenant = await seedTenant()
    const response = await run(tenant)
    expectStatus(response, status)
    expectRoundTrips(response, 1)
  })

  it('a request refused before any I/O (validation) makes none', async () => {
    const tenant = await seedTenant()
    const response = await call('/v1/requests', {
      token: staff(tenant),
      body: { clientId: 'not-a-uuid', title: '' },
    })
    expectStatus(response, 400)
    expectRoundTrips(response, 0)
  })

  it('a malformed id answers 404 without touching the database', async () => {
    const tenant = await seedTenant()
    const response = await call('/v1/requests/not-a-uuid/items', { token: staff(tenant) })
    expectStatus(response, 404)
    expectRoundTrips(response, 0)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
  })
})
