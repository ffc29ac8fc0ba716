import { describe, expect, it } from 'vitest'
import { call, expectStatus, json, seedTenant } from '../access/tenant'
import { actions, createItem, createRequest, type Page, sentRequest, transition } from './support'

describe('portal: the client’s view', () => {
  it('lists the client’s sent requests with progress, newest first, and hides drafts', async () => {
    const tenant = await seedTenant()
    await createRequest(tenant, { title: 'Still a draft' })
    const { request: older } = await sentRequest(tenant, 2)
    const { request: newer } = await sentRequest(tenant, 1)
    const response = await call('/v1/portal/requests', { token: tenant.portal.token })
    expectStatus(response, 200)
    const page = json<Page<Record<string, unknown>>>(response)
    expect(page.data.map((row) => row.id)).toEqual([newer.id, older.id])
    expect(page.data[1]).toEqual({
      id: older.id,
      title: older.title,
      description: null,
      status: 'sent',
      priority: 'medium',
      dueDate: null,
      overdue: false,
      progress: { open: 2, submitted: 0, accepted: 0, returned: 0, total: 2 },
      sentAt: expect.any(String),
      completedAt: null,
      updatedAt: expect.any(String),
    })
    const cancelled = await call('/v1/portal/requests?status=cancelled', {
      token: tenant.portal.token,
    })
    expect(json<Page<unknown>>(cancelled).data).toEqual([])
  })

  it('shows items without staff bookkeeping, and only non-internal comments', async () => {
    const tenant = await seedTenant()
    const { request, items } = await sentRequest(tenant, 1)
    await call(`/v1/requests/${request.id}/comments`, {
      token: tenant.staff.manager.token,
      body: { body: 'Internal: client is late', internal: true },
    })
    await call(`/v1/requests/${request.id}/comments`, {
      token: tenant.staff.manager.token,
      body: { body: 'Welcome! Start with A-1.' },
    })
    const list = await call(`/v1/portal/requests/${request.id}/items`, {
      token: tenant.portal.token,
    })
    expectStatus(list, 200)
    expect(Object.keys(json<Page<Record<string, unknown>>>(list).data[0] ?? {}).sort()).toEqual([
      'description',
      'dueDate',
      'id',
      'reference',
      'requestId',
      'returnReason',
      'section',
      'status',
      'title',
      'updatedAt',
    ])
    expect(json<Page<{ id: string }>>(list).data[0]?.id).toBe(items[0]?.id)

    const thread = await call(`/v1/portal/requests/${request.id}/comments`, {
      token: tenant.portal.token,
    })
    const comments = json<Page<Record<string, unknown>>>(thread).data
    expect(comments.map((comment) => comment.body)).toEqual(['Welcome! Start with A-1.'])
    expect(comments[0]).not.toHaveProperty('internal')
  })

  it('the first client comment starts a sent request; later ones change nothing', async () => {
    const tenant = await seedTenant()
    const { request } = await sentRequest(tenant, 1)
    for (const body of ['First question', 'Second question']) {
      const response = await call(`/v1/portal/requests/${request.id}/comments`, {
        token: tenant.portal.token,
        body: { body },
      })
      expectStatus(response, 201)
      expect(json<{ author: { type: string; id: string } }>(response).author).toMatchObject({
        type: 'contact',
        id: tenant.contact.id,
      })
    }
    const view = await call(`/v1/portal/requests/${request.id}`, { token: tenant.portal.token })
    expect(json<{ status: string }>(view).status).toBe('in_progress')
    const starts = (await actions(request.id)).filter((action) => action === 'request.started')
    expect(starts).toHaveLength(1)
  })

  it('a comment on a completed request does not reopen it', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    await createItem(tenant, request.id)
    expectStatus(await transition(tenant, request.id, 'sent'), 200)
    expectStatus(await transition(tenant, request.id, 'cancelled'), 200)
    const response = await call(`/v1/portal/requests/${request.id}/comments`, {
      token: tenant.portal.token,
      body: { body: 'Why was this cancelled?' },
    })
    expectStatus(response, 201)
    const view = await call(`/v1/portal/requests/${request.id}`, { token: tenant.portal.token })
    expect(json<{ status: string }>(view).status).toBe('cancelled')
  })
})
