// A request with no items completes like any other once started: `completed` is reached from
// `in_progress` only, and with no items nothing is left to accept.
import { describe, expect, it } from 'vitest'
import { expectProblem, expectStatus, json, seedTenant } from '../access/tenant'
import { actions, createRequest, expectRoundTrips, type RequestBody, transition } from './support'

describe('a request with no items', () => {
  it('cannot complete while sent, and completes once started', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await transition(tenant, request.id, 'sent'), 200)

    const early = await transition(tenant, request.id, 'completed')
    expectProblem(early, 409, 'invalid_transition')
    expect(json<{ detail: string }>(early).detail).toBe('A sent request cannot move to completed.')
    expectRoundTrips(early, 1)

    expectStatus(await transition(tenant, request.id, 'in_progress'), 200)
    const done = await transition(tenant, request.id, 'completed')
    expectStatus(done, 200)
    expectRoundTrips(done, 1)
    expect(json<RequestBody>(done)).toMatchObject({
      status: 'completed',
      progress: { open: 0, submitted: 0, accepted: 0, returned: 0, total: 0 },
    })
    expect(await actions(request.id)).toEqual([
      'request.created',
      'request.sent',
      'request.started',
      'request.completed',
    ])
  })
})
