import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  expectStatus,
  json,
  seedTenant,
  tenantSnapshot,
} from '../access/tenant'
import { actions, createItem, createRequest, sentRequest, submitItem, transition } from './support'

const accept = (base: string, token: string) => call(`${base}/accept`, { method: 'POST', token })

describe('items: refused', () => {
  it('only submitted items can be accepted or returned', async () => {
    const tenant = await seedTenant()
    const { request, items: [item] } = await sentRequest(tenant, 1)
    const base = `/v1/requests/${request.id}/items/${item?.id}`
    const token = tenant.staff.manager.token
    const open = await accept(base, token)
    expectProblem(open, 409, 'invalid_transition')
    expect(json<{ detail: string }>(open).detail).toBe(
      'An open item cannot be accepted; only submitted items can.',
    )
    expectProblem(
      await call(`${base}/return`, { token, body: { reason: 'x' } }),
      409,
      'invalid_transition',
    )
    await submitItem(tenant, request.id, item?.id ?? '')
    expectStatus(await accept(base, token), 200)
    expectProblem(await accept(base, token), 409, 'invalid_transition')
    expectProblem(
      await call(`${base}/return`, { token, body: { reason: 'changed my mind' } }),
      409,
      'invalid_transition',
    )
  })

  it('a return needs a reason', async () => {
    const tenant = await seedTenant()
    const { request, items: [item] } = await sentRequest(tenant, 1)
    await submitItem(tenant, request.id, item?.id ?? '')
    const base = `/v1/requests/${request.id}/items/${item?.id}`
    for (const body of [{}, { reason: '   ' }]) {
      const response = await call(`${base}/return`, { token: tenant.staff.manager.token, body })
      expectProblem(response, 400, 'validation_failed')
    }
  })

  it('items of a draft are not reviewed, and a closed request’s items do not change', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const item = await createItem(tenant, request.id)
    const token = tenant.staff.manager.token
    const base = `/v1/requests/${request.id}/items/${item.id}`
    expectProblem(await accept(base, token), 409, 'invalid_transition')

    expectStatus(await transition(tenant, request.id, 'cancelled'), 200)
    const before = await tenantSnapshot(tenant.organization.id)
    expectProblem(
      await call(`/v1/requests/${request.id}/items`, {
        token,
        body: { reference: 'N', title: 'n' },
      }),
      409,
      'conflict',
    )
    const edit = await call(base, { method: 'PATCH', token, body: { title: 'x' } })
    expectProblem(edit, 409, 'conflict')
    expectProblem(await call(base, { method: 'DELETE', token }), 409, 'conflict')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('a reference is unique among a request’s live items', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    await createItem(tenant, request.id, { reference: 'A-1' })
    const other = await createItem(tenant, request.id, { reference: 'A-2' })
    const token = tenant.staff.manager.token
    const duplicate = await call(`/v1/requests/${request.id}/items`, {
      token,
      body: { reference: 'A-1', title: 'again' },
    })
    expectProblem(duplicate, 409, 'conflict')
    const rename = await call(`/v1/requests/${request.id}/items/${other.id}`, {
      method: 'PATCH',
      token,
      body: { reference: 'A-1' },
    })
    expectProblem(rename, 409, 'conflict')
    expect((await actions(request.id)).filter((a) => a === 'item.created')).toHaveLength(2)
  })

  it('an item addressed through another request is a 404', async () => {
    const tenant = await seedTenant()
    const one = await createRequest(tenant)
    const two = await createRequest(tenant)
    const item = await createItem(tenant, one.id)
    const token = tenant.staff.manager.token
    const wrong = `/v1/requests/${two.id}/items/${item.id}`
    expectProblem(await call(wrong, { token }), 404, 'not_found')
    const edit = await call(wrong, { method: 'PATCH', token, body: { title: 'x' } })
    expectProblem(edit, 404, 'not_found')
    expectProblem(await call(wrong, { method: 'DELETE', token }), 404, 'not_found')
    expectProblem(await accept(wrong, token), 404, 'not_found')
    expectProblem(await call(`/v1/requests/${one.id}/items/nope`, { token }), 404, 'not_found')
  })

  it('members read items but cannot add, edit or review them', async () => {
    const tenant = await seedTenant()
    const { request, items: [item] } = await sentRequest(tenant, 1)
    const token = tenant.staff.member.token
    const base = `/v1/requests/${request.id}/items`
    expectStatus(await call(base, { token }), 200)
    const add = await call(base, { token, body: { reference: 'M', title: 'm' } })
    expectProblem(add, 403, 'forbidden')
    expectProblem(
      await call(`${base}/${item?.id}`, { method: 'PATCH', token, body: { title: 'm' } }),
      403,
      'forbidden',
    )
    expectProblem(await accept(`${base}/${item?.id}`, token), 403, 'forbidden')
  })
})
