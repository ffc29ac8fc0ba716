// Postgres text cannot hold a NUL character: it is refused by validation with the field's path
// (and the CSV row and column), never by Postgres.
import { describe, expect, it } from 'vitest'
import {
  type Api,
  call,
  expectProblem,
  roundTrips,
  seedTenant,
  type Tenant,
} from '../access/tenant'
import { createItem, createRequest, importCsv, sentRequest } from './support'

interface FieldError {
  path: string
  message: string
  code: string
}

/** A 400 naming exactly `path`, refused before any database round trip. */
function expectRefusedAt(response: Api, path: string) {
  expectProblem(response, 400, 'validation_failed')
  const errors = (response.body as { errors?: FieldError[] }).errors ?? []
  expect(errors.map((error) => error.path), response.text).toEqual([path])
  expect(roundTrips(response), response.text).toBe(0)
}

const nul = 'before\u0000after'

async function withRequest(): Promise<{ tenant: Tenant; requestId: string; itemId: string }> {
  const tenant = await seedTenant()
  const { request, items } = await sentRequest(tenant, 1)
  return { tenant, requestId: request.id, itemId: items[0]?.id ?? '' }
}

describe('NUL characters', () => {
  it('in request and item fields', async () => {
    const tenant = await seedTenant()
    const token = tenant.staff.manager.token
    const create = await call('/v1/requests', {
      token,
      body: { clientId: tenant.client.id, title: nul },
    })
    expectRefusedAt(create, 'body.title')
    expect((create.body as { errors: FieldError[] }).errors[0]?.message).toMatch(/NUL/)

    const request = await createRequest(tenant)
    const description = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token,
      body: { description: nul },
    })
    expectRefusedAt(description, 'body.description')
    for (const field of ['reference', 'title', 'section', 'description']) {
      const item = await call(`/v1/requests/${request.id}/items`, {
        token,
        body: { reference: 'N-1', title: 'x', [field]: field === 'reference' ? 'N\u0000' : nul },
      })
      expectRefusedAt(item, `body.${field}`)
    }
    const existing = await createItem(tenant, request.id)
    const edit = await call(`/v1/requests/${request.id}/items/${existing.id}`, {
      method: 'PATCH',
      token,
      body: { section: nul },
    })
    expectRefusedAt(edit, 'body.section')
  })

  it('in comments, return reasons and searches', async () => {
    const { tenant, requestId, itemId } = await withRequest()
    const comment = await call(`/v1/requests/${requestId}/comments`, {
      token: tenant.staff.member.token,
      body: { body: nul },
    })
    expectRefusedAt(comment, 'body.body')
    const portal = await call(`/v1/portal/requests/${requestId}/comments`, {
      token: tenant.portal.token,
      body: { body: nul },
    })
    expectRefusedAt(portal, 'body.body')
    const reason = await call(`/v1/requests/${requestId}/items/${itemId}/return`, {
      token: tenant.staff.manager.token,
      body: { reason: nul },
    })
    expectRefusedAt(reason, 'body.reason')
    for (const path of ['/v1/requests', `/v1/requests/${requestId}/items`, '/v1/items']) {
      const search = await call(`${path}?q=${encodeURIComponent(nul)}`, {
        token: tenant.staff.member.token,
      })
      expectRefusedAt(search, 'query.q')
    }
  })

  it('in CSV cells, by row and column', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const text =
      'reference,section,title,description,priority\n' +
      'N-1,Cash,Fine,,\n' +
      `N-2,${nul},Title,,\n` +
      `N-3,Cash,${nul},${nul},\n` +
      `N\u0000,Cash,Title,,high\u0000\n`
    for (const dryRun of [true, false]) {
      const response = await importCsv(tenant, request.id, text, { dryRun })
      expectProblem(response, 400, 'validation_failed')
      const errors = (response.body as { errors: FieldError[] }).errors
      expect(errors.map((error) => error.path)).toEqual([
        'rows.3.section',
        'rows.4.title',
        'rows.4.description',
        'rows.5.reference',
        'rows.5.priority',
      ])
    }
  })
})
