import { describe, expect, it } from 'vitest'
import { call, expectProblem, expectStatus, json, seedTenant } from '../access/tenant'
import { actions, createItem, createRequest, type Page } from './support'

interface Comment {
  id: string
  itemId: string | null
  body: string
  internal: boolean
  author: { type: string; id: string; name: string }
}

describe('comments (staff)', () => {
  it('staff comment on requests and items, internal or not, and read them in order', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const item = await createItem(tenant, request.id)
    const base = `/v1/requests/${request.id}/comments`

    const plain = await call(base, {
      token: tenant.staff.member.token,
      body: { body: '  Please start with the bank items.  ' },
    })
    expectStatus(plain, 201)
    expect(json<Comment>(plain)).toMatchObject({
      body: 'Please start with the bank items.',
      internal: false,
      itemId: null,
      author: { type: 'user', id: tenant.staff.member.id, name: expect.stringMatching(/^member /) },
    })
    const note = await call(base, {
      token: tenant.staff.manager.token,
      body: { body: 'Partner review needed', itemId: item.id, internal: true },
    })
    expectStatus(note, 201)

    const all = await call(base, { token: tenant.staff.member.token })
    const thread = json<Page<Comment>>(all).data
    expect(thread.map((comment) => [comment.body, comment.internal])).toEqual([
      ['Please start with the bank items.', false],
      ['Partner review needed', true],
    ])
    const onItem = await call(`${base}?itemId=${item.id}`, { token: tenant.staff.member.token })
    expect(json<Page<Comment>>(onItem).data.map((comment) => comment.itemId)).toEqual([item.id])
    expect(await actions(request.id)).toEqual([
      'request.created',
      'item.created',
      'comment.added',
      'comment.added',
    ])
  })

  it('an item of another request is a 422; an empty body a 400', async () => {
    const tenant = await seedTenant()
    const one = await createRequest(tenant)
    const two = await createRequest(tenant)
    const item = await createItem(tenant, two.id)
    const wrong = await call(`/v1/requests/${one.id}/comments`, {
      token: tenant.staff.member.token,
      body: { body: 'x', itemId: item.id },
    })
    expectProblem(wrong, 422, 'unprocessable')
    const empty = await call(`/v1/requests/${one.id}/comments`, {
      token: tenant.staff.member.token,
      body: { body: ' ' },
    })
    expectProblem(empty, 400, 'validation_failed')
    expect(await actions(one.id)).toEqual(['request.created'])
  })
})
