import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { call, database, expectStatus, json, seedTenant, type Tenant } from '../access/tenant'
import {
  actions,
  createItem,
  createRequest,
  importCsv,
  type ItemBody,
  type Page,
  type RequestBody,
  sentRequest,
  submitItem,
} from './support'

const items = async (tenant: Tenant, path: string) => {
  const response = await call(path, { token: tenant.staff.member.token })
  expectStatus(response, 200)
  return json<Page<ItemBody>>(response)
}

const csvOf = (count: number) =>
  ['reference,title', ...Array.from({ length: count }, (_, n) => `N-${n + 1},Item ${n + 1}`)].join(
    '\n',
  )

describe('items: add, edit, delete', () => {
  it('adds items in order, due with their request unless they have their own date', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant, { dueDate: '2027-01-31' })
    const first = await createItem(tenant, request.id, { reference: 'A-1', title: 'Trial balance' })
    const second = await createItem(tenant, request.id, {
      reference: 'A-2',
      title: 'Chart of accounts',
      dueDate: '2027-01-15',
      priority: 'high',
    })
    expect(first).toMatchObject({
      requestId: request.id,
      status: 'open',
      dueDate: '2027-01-31',
      ownDueDate: false,
      position: 1,
    })
    expect(second).toMatchObject({ dueDate: '2027-01-15', ownDueDate: true, position: 2 })

    const changed = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { dueDate: '2027-02-28' },
    })
    expectStatus(changed, 200)
    const after = await items(tenant, `/v1/requests/${request.id}/items`)
    expect(after.data.map((item) => item.dueDate)).toEqual(['2027-02-28', '2027-01-15'])
    expect(await actions(request.id)).toContain('item.created')
  })

  it('edits fields and position, before/after in the trail, guarded by its ETag', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const item = await createItem(tenant, request.id, { reference: 'C-1', dueDate: '2027-01-01' })
    const path = `/v1/requests/${request.id}/items/${item.id}`
    const read = await call(path, { token: tenant.staff.member.token })
    expectStatus(read, 200)

    const edited = await call(path, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { reference: 'C-1a', section: 'Cash', dueDate: null, position: 9 },
      headers: { 'if-match': read.headers.get('etag') ?? '' },
    })
    expectStatus(edited, 200)
    expect(json<ItemBody>(edited)).toMatchObject({
      reference: 'C-1a',
      section: 'Cash',
      dueDate: null,
      ownDueDate: false,
      position: 9,
      revision: 2,
    })
    const stale = await call(path, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { title: 'late' },
      headers: { 'if-match': read.headers.get('etag') ?? '' },
    })
    expectStatus(stale, 412)

    const trail = await items(tenant, `/v1/requests/${request.id}/activity?itemId=${item.id}`)
    expect(trail.data.at(-1)).toMatchObject({
      action: 'item.updated',
      before: { reference: 'C-1', section: null, dueDate: '2027-01-01', position: 1 },
      after: { reference: 'C-1a', section: 'Cash', dueDate: null, position: 9 },
    })
  })

  it('deletes an item: gone from lists, its reference free, a tombstone for sync', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const item = await createItem(tenant, request.id, { reference: 'D-1' })
    const since = new Date(Date.now() - 60_000).toISOString()
    const gone = await call(`/v1/requests/${request.id}/items/${item.id}`, {
      method: 'DELETE',
      token: tenant.staff.manager.token,
    })
    expectStatus(gone, 204)
    expect((await items(tenant, `/v1/requests/${request.id}/items`)).data).toEqual([])
    const read = await call(`/v1/requests/${request.id}/items/${item.id}`, {
      token: tenant.staff.member.token,
    })
    expectStatus(read, 404)

    const again = await createItem(tenant, request.id, { reference: 'D-1' })
    const sync = await items(tenant, `/v1/requests/${request.id}/items?updatedSince=${since}`)
    expect(sync.data.map((row) => [row.id, row.deletedAt === null])).toEqual([
      [item.id, false],
      [again.id, true],
    ])
    const progress = await call(`/v1/requests/${request.id}`, { token: tenant.staff.member.token })
    expect(json<RequestBody>(progress).progress.total).toBe(1)
  })
})

describe('items: review', () => {
  it('returns with a reason, resubmits (clearing it) and accepts, counting progress', async () => {
    const tenant = await seedTenant()
    const { request, items: [item] } = await sentRequest(tenant, 1)
    if (!item) throw new Error('no item')
    const base = `/v1/requests/${request.id}/items/${item.id}`
    expect(await submitItem(tenant, request.id, item.id)).toBe(true)

    const returned = await call(`${base}/return`, {
      token: tenant.staff.manager.token,
      body: { reason: 'Signed copy, please' },
    })
    expectStatus(returned, 200)
    expect(json<ItemBody>(returned)).toMatchObject({
      status: 'returned',
      returnReason: 'Signed copy, please',
    })

    expect(await submitItem(tenant, request.id, item.id)).toBe(true)
    const resubmitted = await call(base, { token: tenant.staff.member.token })
    expect(json<ItemBody>(resubmitted)).toMatchObject({ status: 'submitted', returnReason: null })

    const accepted = await call(`${base}/accept`, {
      method: 'POST',
      token: tenant.staff.manager.token,
    })
    expectStatus(accepted, 200)
    expect(json<ItemBody>(accepted).status).toBe('accepted')
    // Accepted items do not go back to submitted on a new upload.
    expect(await submitItem(tenant, request.id, item.id)).toBe(false)

    const detail = await call(`/v1/requests/${request.id}`, { token: tenant.staff.member.token })
    expect(json<RequestBody>(detail)).toMatchObject({
      status: 'in_progress',
      progress: { open: 0, submitted: 0, accepted: 1, returned: 0, total: 1 },
    })
    const trail = await items(tenant, `/v1/requests/${request.id}/activity?itemId=${item.id}`)
    expect(trail.data.map((event) => event.action)).toEqual([
      'item.created',
      'item.submitted',
      'item.returned',
      'item.submitted',
      'item.accepted',
    ])
    expect(trail.data[2]).toMatchObject({
      before: { status: 'submitted' },
      after: { status: 'returned', reason: 'Signed copy, please' },
    })
  })
})

describe('items: lists', () => {
  it('filters by status and text and pages in list order', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    for (const [reference, title] of [
      ['A-1', 'Trial balance'],
      ['C-1', 'Bank statements'],
      ['C-2', 'Bank reconciliations'],
      ['D-1', 'Receivables aging'],
    ]) {
      await createItem(tenant, request.id, { reference, title })
    }
    const base = `/v1/requests/${request.id}/items`
    const bank = await items(tenant, `${base}?q=bank`)
    expect(bank.data.map((item) => item.reference)).toEqual(['C-1', 'C-2'])
    expect((await items(tenant, `${base}?q=d-1`)).data.map((item) => item.title)).toEqual([
      'Receivables aging',
    ])
    expect((await items(tenant, `${base}?status=accepted`)).data).toEqual([])

    const first = await items(tenant, `${base}?limit=3`)
    expect(first.data.map((item) => item.reference)).toEqual(['A-1', 'C-1', 'C-2'])
    const second = await items(tenant, `${base}?limit=3&cursor=${first.nextCursor}`)
    expect(second.data.map((item) => item.reference)).toEqual(['D-1'])
    expect(second.nextCursor).toBeNull()
  })

  it('caps a page at 100 rows', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await importCsv(tenant, request.id, csvOf(105)), 200)
    const page = await items(tenant, `/v1/requests/${request.id}/items?limit=100`)
    expect(page.data).toHaveLength(100)
    const next = `/v1/requests/${request.id}/items?limit=100&cursor=${page.nextCursor}`
    const rest = await items(tenant, next)
    expect(rest.data).toHaveLength(5)
    expect(rest.nextCursor).toBeNull()
    const all = [...page.data, ...rest.data].map((item) => item.reference)
    expect(new Set(all).size).toBe(105)
  })

  it('the item feed syncs changes across requests, oldest first, with tombstones', async () => {
    const tenant = await seedTenant()
    const one = await createRequest(tenant)
    const two = await createRequest(tenant)
    const keep = await createItem(tenant, one.id, { reference: 'K-1' })
    const drop = await createItem(tenant, two.id, { reference: 'X-1' })
    const still = await createItem(tenant, two.id, { reference: 'S-1' })
    await database().execute(sql`
      update request_items set updated_at = now() - interval '1 day'
      where organization_id = ${tenant.organization.id}::uuid`)
    const since = new Date(Date.now() - 60_000).toISOString()

    expectStatus(
      await call(`/v1/requests/${one.id}/items/${keep.id}`, {
        method: 'PATCH',
        token: tenant.staff.manager.token,
        body: { title: 'edited' },
      }),
      200,
    )
    expectStatus(
      await call(`/v1/requests/${two.id}/items/${drop.id}`, {
        method: 'DELETE',
        token: tenant.staff.manager.token,
      }),
      204,
    )
    const feed = await items(tenant, `/v1/items?updatedSince=${since}`)
    expect(feed.data.map((item) => [item.id, item.deletedAt === null])).toEqual([
      [keep.id, true],
      [drop.id, false],
    ])
    expect(feed.data.map((item) => item.id)).not.toContain(still.id)

    const live = await items(tenant, `/v1/items?requestId=${two.id}`)
    expect(live.data.map((item) => item.id)).toEqual([still.id])
    const newest = await items(tenant, '/v1/items?sort=-updatedAt&limit=1')
    expect(newest.data.map((item) => item.id)).toEqual([keep.id])
  })
})
