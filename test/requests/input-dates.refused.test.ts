// Days Postgres cannot store (year 0000) or nobody means are refused by validation with the
// field's path (and the CSV row and column), never by Postgres.
import { describe, expect, it } from 'vitest'
import {
  type Api,
  call,
  expectProblem,
  roundTrips,
  seedTenant,
  tenantSnapshot,
} from '../access/tenant'
import { createRequest, importCsv } from './support'

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

describe('dates out of range', () => {
  it.each(['0000-01-01', '1899-12-31'])('a due date of %s is a 400 on every write', async (day) => {
    const tenant = await seedTenant()
    const token = tenant.staff.manager.token
    const before = await tenantSnapshot(tenant.organization.id)
    const create = await call('/v1/requests', {
      token,
      body: { clientId: tenant.client.id, title: 'Audit', dueDate: day },
    })
    expectRefusedAt(create, 'body.dueDate')
    expect((create.body as { errors: FieldError[] }).errors[0]?.message).toBe(
      'Years 1900 to 9999 only',
    )
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)

    const request = await createRequest(tenant)
    const patch = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token,
      body: { dueDate: day },
    })
    expectRefusedAt(patch, 'body.dueDate')
    const item = await call(`/v1/requests/${request.id}/items`, {
      token,
      body: { reference: 'D-1', title: 'x', dueDate: day },
    })
    expectRefusedAt(item, 'body.dueDate')
    const csv = await importCsv(tenant, request.id, `reference,title,due_date\nD-1,x,${day}\n`)
    expectProblem(csv, 400, 'validation_failed')
    expect((csv.body as { errors: FieldError[] }).errors.map((error) => error.path)).toEqual([
      'rows.2.due_date',
    ])
  })

  it('the first and last sensible days are taken', async () => {
    const tenant = await seedTenant()
    for (const day of ['1900-01-01', '9999-12-31']) {
      const response = await call('/v1/requests', {
        token: tenant.staff.manager.token,
        body: { clientId: tenant.client.id, title: 'Audit', dueDate: day },
      })
      expect(response.status, response.text).toBe(201)
      expect((response.body as { dueDate: string }).dueDate).toBe(day)
    }
  })

  it.each([
    ['/v1/requests?dueBefore=0000-01-01', 'query.dueBefore'],
    ['/v1/requests?dueAfter=0000-12-31', 'query.dueAfter'],
    ['/v1/requests?updatedSince=0000-01-01T00:00:00Z', 'query.updatedSince'],
    ['/v1/items?updatedSince=0000-01-01T00:00:00Z', 'query.updatedSince'],
  ])('%s is a 400 naming its parameter', async (path, field) => {
    const tenant = await seedTenant()
    expectRefusedAt(await call(path, { token: tenant.staff.member.token }), field)
  })
})
