// The whole document-request workflow through the Worker, as a firm and its client live it:
// draft → import the PBC list → send → the client comments and submits → staff return and
// accept → complete. Every call is also held to the one-round-trip budget.
import { describe, expect, it } from 'vitest'
import { type Api, call, expectProblem, expectStatus, json, seedTenant } from '../access/tenant'
import {
  actions,
  expectRoundTrips,
  importCsv,
  type ItemBody,
  type Page,
  pbcList,
  type RequestBody,
  submitItem,
} from './support'

const budget = (response: Api, status: number) => {
  expectStatus(response, status)
  expectRoundTrips(response, 1)
  return response
}

describe('the PBC workflow, end to end', () => {
  it('runs from a draft to a completed request', async () => {
    const tenant = await seedTenant()
    const manager = tenant.staff.manager.token
    const portal = tenant.portal.token

    // 1. The auditor drafts the request for the client.
    const created = budget(
      await call('/v1/requests', {
        token: manager,
        body: {
          clientId: tenant.client.id,
          title: 'FY2026 year-end audit',
          priority: 'high',
          dueDate: '2027-02-15',
          assigneeId: tenant.staff.member.id,
        },
      }),
      201,
    )
    const request = json<RequestBody>(created)
    expect(request).toMatchObject({ status: 'draft', priority: 'high', dueDate: '2027-02-15' })
    expect(request.assignee).toMatchObject({ id: tenant.staff.member.id })

    // 2. The PBC list comes in as CSV; importing it twice changes nothing the second time.
    const imported = json<{ created: string[]; updated: string[]; unchanged: string[] }>(
      budget(await importCsv(tenant, request.id, pbcList), 200),
    )
    expect(imported.created).toHaveLength(27)
    expect(imported.created.slice(0, 3)).toEqual(['A-1', 'A-2', 'A-3'])
    const again = json<{ created: string[]; unchanged: string[] }>(
      budget(await importCsv(tenant, request.id, pbcList), 200),
    )
    expect(again.created).toEqual([])
    expect(again.unchanged).toHaveLength(27)

    const detail = json<RequestBody>(
      budget(await call(`/v1/requests/${request.id}`, { token: manager }), 200),
    )
    expect(detail.progress).toEqual({ open: 27, submitted: 0, accepted: 0, returned: 0, total: 27 })

    // Drafts are invisible to the client.
    const before = budget(await call('/v1/portal/requests', { token: portal }), 200)
    expect(json<Page<RequestBody>>(before).data).toEqual([])

    // 3. Send it.
    const sent = budget(
      await call(`/v1/requests/${request.id}/transitions`, {
        token: manager,
        body: { to: 'sent' },
      }),
      200,
    )
    expect(json<RequestBody>(sent)).toMatchObject({ status: 'sent' })
    expect(json<RequestBody>(sent).sentAt).toEqual(expect.any(String))

    const items = json<Page<ItemBody>>(
      budget(
        await call(`/v1/portal/requests/${request.id}/items?limit=100`, { token: portal }),
        200,
      ),
    ).data
    expect(items.map((item) => item.reference)).toEqual(imported.created)
    const byRef = new Map(items.map((item) => [item.reference, item]))
    const bankRecs = byRef.get('C-2')
    if (!bankRecs) throw new Error('C-2 missing from the portal list')

    // 4. The client's first comment starts the request; a staff-internal note stays internal.
    budget(
      await call(`/v1/requests/${request.id}/comments`, {
        token: tenant.staff.member.token,
        body: { body: 'Client is slow with bank items; chase weekly.', internal: true },
      }),
      201,
    )
    budget(
      await call(`/v1/portal/requests/${request.id}/comments`, {
        token: portal,
        body: { body: 'We will upload the bank reconciliations on Friday.', itemId: bankRecs.id },
      }),
      201,
    )
    const started = json<RequestBody>(
      budget(await call(`/v1/portal/requests/${request.id}`, { token: portal }), 200),
    )
    expect(started.status).toBe('in_progress')
    const thread = json<Page<{ body: string; author: { type: string } }>>(
      budget(await call(`/v1/portal/requests/${request.id}/comments`, { token: portal }), 200),
    ).data
    expect(thread).toHaveLength(1)
    expect(thread[0]?.author.type).toBe('contact')

    // 5. The client submits every item. Submission happens through uploads (the documents
    // feature); there are no files here, so each item moves through the same statements the
    // upload completion runs in its batch (`itemSubmittedStatements`).
    for (const item of items) expect(await submitItem(tenant, request.id, item.id)).toBe(true)

    // 6. Staff return one item with a reason; the client sees why.
    budget(
      await call(`/v1/requests/${request.id}/items/${bankRecs.id}/return`, {
        token: manager,
        body: { reason: 'The December reconciliation is missing its bank statement.' },
      }),
      200,
    )
    const returned = json<Page<ItemBody>>(
      budget(
        await call(`/v1/portal/requests/${request.id}/items?status=returned`, { token: portal }),
        200,
      ),
    )
    expect(returned.data).toHaveLength(1)
    expect(returned.data[0]).toMatchObject({
      reference: 'C-2',
      status: 'returned',
      returnReason: 'The December reconciliation is missing its bank statement.',
    })

    // Completing is refused while any item is not accepted.
    const early = await call(`/v1/requests/${request.id}/transitions`, {
      token: manager,
      body: { to: 'completed' },
    })
    expectProblem(early, 409, 'invalid_transition')

    // 7. The client uploads again; staff accept everything.
    expect(await submitItem(tenant, request.id, bankRecs.id)).toBe(true)
    for (const item of items) {
      budget(
        await call(`/v1/requests/${request.id}/items/${item.id}/accept`, {
          method: 'POST',
          token: manager,
        }),
        200,
      )
    }
    const reviewed = json<RequestBody>(
      budget(await call(`/v1/requests/${request.id}`, { token: manager }), 200),
    )
    expect(reviewed.progress).toEqual({
      open: 0,
      submitted: 0,
      accepted: 27,
      returned: 0,
      total: 27,
    })

    // 8. Complete.
    const completed = json<RequestBody>(
      budget(
        await call(`/v1/requests/${request.id}/transitions`, {
          token: manager,
          body: { to: 'completed' },
        }),
        200,
      ),
    )
    expect(completed).toMatchObject({ status: 'completed', overdue: false })
    expect(completed.completedAt).toEqual(expect.any(String))
    const seen = json<RequestBody>(
      budget(await call(`/v1/portal/requests/${request.id}`, { token: portal }), 200),
    )
    expect(seen).toMatchObject({ status: 'completed' })

    // The trail holds every change, once, in order of the workflow.
    const trail = await actions(request.id)
    const count = (action: string) => trail.filter((entry) => entry === action).length
    expect(count('request.created')).toBe(1)
    expect(count('request.imported')).toBe(2)
    expect(count('item.created')).toBe(27)
    expect(count('item.updated')).toBe(0)
    expect(count('request.sent')).toBe(1)
    expect(count('comment.added')).toBe(2)
    expect(count('request.started')).toBe(1)
    expect(count('item.submitted')).toBe(28)
    expect(count('item.returned')).toBe(1)
    expect(count('item.accepted')).toBe(27)
    expect(count('request.completed')).toBe(1)
    expect(trail.at(-1)).toBe('request.completed')

    const activity = json<Page<{ action: string; actor: { type: string; name: string | null } }>>(
      budget(await call(`/v1/requests/${request.id}/activity?limit=100`, { token: manager }), 200),
    )
    const startedEvent = activity.data.find((event) => event.action === 'request.started')
    expect(startedEvent?.actor).toMatchObject({ type: 'contact', name: tenant.contact.name })
  })
})
