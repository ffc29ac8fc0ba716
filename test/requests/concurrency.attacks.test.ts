// Racing writers: the conditional UPDATE inside one batch lets exactly one of two
// conflicting changes win, and the loser leaves no event behind. On PGlite the database
// runs the two batches one after the other; with TEST_DATABASE_URL they truly overlap.
import { describe, expect, it } from 'vitest'
import { type Api, call, expectProblem, expectStatus, seedTenant } from '../access/tenant'
import { actions, createRequest, sentRequest, submitItem, transition } from './support'

const rounds = 4

const winnerAndLoser = (responses: Api[]) => {
  const statuses = responses.map((response) => response.status).sort()
  expect(statuses, responses.map((response) => response.text).join('\n')).toEqual([200, 409])
  const loser = responses.find((response) => response.status === 409)
  if (loser) expectProblem(loser, 409, 'invalid_transition')
  return responses.find((response) => response.status === 200)
}

describe('concurrency: two racing changes, one winner, one event', () => {
  it.each(Array.from({ length: rounds }, (_, round) => round))(
    'complete and cancel at once (round %i)',
    async () => {
      const tenant = await seedTenant()
      const request = await createRequest(tenant)
      expectStatus(await transition(tenant, request.id, 'sent'), 200)
      expectStatus(await transition(tenant, request.id, 'in_progress'), 200)
      // Both are legal from in_progress and each closes the request: only one can happen.
      const responses = await Promise.all([
        transition(tenant, request.id, 'completed'),
        transition(tenant, request.id, 'cancelled', tenant.staff.admin.token),
      ])
      const winner = winnerAndLoser(responses)
      const trail = await actions(request.id)
      const moves = trail.filter((action) =>
        ['request.completed', 'request.cancelled'].includes(action),
      )
      expect(moves, trail.join(', ')).toHaveLength(1)
      const status = (winner?.body as { status: string }).status
      expect(moves[0]).toBe(`request.${status}`)
    },
  )

  it.each(Array.from({ length: rounds }, (_, round) => round))(
    'two sends at once (round %i)',
    async () => {
      const tenant = await seedTenant()
      const request = await createRequest(tenant)
      winnerAndLoser(
        await Promise.all([
          transition(tenant, request.id, 'sent'),
          transition(tenant, request.id, 'sent', tenant.staff.owner.token),
        ]),
      )
      const sends = (await actions(request.id)).filter((action) => action === 'request.sent')
      expect(sends).toHaveLength(1)
    },
  )

  it('accept and return of one item at once', async () => {
    const tenant = await seedTenant()
    const { request, items: [item] } = await sentRequest(tenant, 1)
    await submitItem(tenant, request.id, item?.id ?? '')
    const base = `/v1/requests/${request.id}/items/${item?.id}`
    winnerAndLoser(
      await Promise.all([
        call(`${base}/accept`, { method: 'POST', token: tenant.staff.manager.token }),
        call(`${base}/return`, { token: tenant.staff.admin.token, body: { reason: 'blurry' } }),
      ]),
    )
    const reviews = (await actions(request.id)).filter((action) =>
      ['item.accepted', 'item.returned'].includes(action),
    )
    expect(reviews).toHaveLength(1)
  })

  it('two items with one reference at once: one created, one refused', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const add = (token: string) =>
      call(`/v1/requests/${request.id}/items`, { token, body: { reference: 'R-1', title: 'r' } })
    const responses = await Promise.all([
      add(tenant.staff.manager.token),
      add(tenant.staff.owner.token),
    ])
    expect(responses.map((response) => response.status).sort()).toEqual([201, 409])
    for (const response of responses) {
      if (response.status === 409) expectProblem(response, 409, 'conflict')
      else expectStatus(response, 201)
    }
    const created = (await actions(request.id)).filter((action) => action === 'item.created')
    expect(created).toHaveLength(1)
  })
})
