import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as schema from '../../src/db/schema'
import { call, database, expectStatus, json, seedTenant, type Tenant } from '../access/tenant'
import {
  actions,
  createItem,
  createRequest,
  type Page,
  type RequestBody,
  transition,
} from './support'

const list = async (tenant: Tenant, query: string) => {
  const response = await call(`/v1/requests${query}`, { token: tenant.staff.member.token })
  expectStatus(response, 200)
  return json<Page<RequestBody>>(response)
}

const titles = (page: Page<RequestBody>) => page.data.map((row) => row.title)

async function secondClient(tenant: Tenant) {
  const id = crypto.randomUUID()
  await database()
    .insert(schema.clients)
    .values({ id, organizationId: tenant.organization.id, name: 'Second client' })
  return id
}

describe('requests: create, read, edit', () => {
  it('creates a draft with defaults, a Location and an ETag', async () => {
    const tenant = await seedTenant()
    const response = await call('/v1/requests', {
      token: tenant.staff.manager.token,
      body: { clientId: tenant.client.id, title: '  FY26 audit  ' },
    })
    expectStatus(response, 201)
    const body = json<RequestBody>(response)
    expect(body).toMatchObject({
      title: 'FY26 audit',
      status: 'draft',
      priority: 'medium',
      dueDate: null,
      overdue: false,
      client: { id: tenant.client.id, name: tenant.client.name },
      assignee: null,
      progress: { open: 0, submitted: 0, accepted: 0, returned: 0, total: 0 },
      deletedAt: null,
    })
    expect(response.headers.get('location')).toBe(`/v1/requests/${body.id}`)
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
    expect(await actions(body.id)).toEqual(['request.created'])
  })

  it('answers 304 to a matching If-None-Match, and a new ETag once something changed', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const path = `/v1/requests/${request.id}`
    const first = await call(path, { token: tenant.staff.member.token })
    expectStatus(first, 200)
    const tag = first.headers.get('etag') ?? ''

    const again = await call(path, {
      token: tenant.staff.member.token,
      headers: { 'if-none-match': tag },
    })
    expectStatus(again, 304)
    expect(again.text).toBe('')
    expect(again.headers.get('etag')).toBe(tag)

    // An item changes the request's progress, so its representation and tag change too.
    await createItem(tenant, request.id)
    const changed = await call(path, {
      token: tenant.staff.member.token,
      headers: { 'if-none-match': tag },
    })
    expectStatus(changed, 200)
    expect(changed.headers.get('etag')).not.toBe(tag)
    expect(json<RequestBody>(changed).progress.total).toBe(1)
  })

  it('edits with a current If-Match, records before and after, and ignores a no-op', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant, { title: 'Old', priority: 'low' })
    const read = await call(`/v1/requests/${request.id}`, { token: tenant.staff.manager.token })
    const response = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { title: 'New', priority: 'urgent', dueDate: '2027-03-31' },
      headers: { 'if-match': read.headers.get('etag') ?? '' },
    })
    expectStatus(response, 200)
    expect(json<RequestBody>(response)).toMatchObject({
      title: 'New',
      priority: 'urgent',
      dueDate: '2027-03-31',
      revision: request.revision + 1,
    })
    expect(response.headers.get('etag')).not.toBe(read.headers.get('etag'))

    const trail = await call(`/v1/requests/${request.id}/activity`, {
      token: tenant.staff.member.token,
    })
    type Event = { action: string; before: unknown; after: unknown }
    const updated = json<Page<Event>>(trail).data.at(-1)
    expect(updated).toMatchObject({
      action: 'request.updated',
      before: { title: 'Old', priority: 'low', dueDate: null },
      after: { title: 'New', priority: 'urgent', dueDate: '2027-03-31' },
    })

    const same = await call(`/v1/requests/${request.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { title: 'New' },
      headers: { 'if-match': '*' },
    })
    expectStatus(same, 200)
    expect(json<RequestBody>(same).revision).toBe(request.revision + 1)
    expect(await actions(request.id)).toEqual(['request.created', 'request.updated'])
  })

  it('assigns and unassigns, each with its event', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const path = `/v1/requests/${request.id}/assignee`
    const assigned = await call(path, {
      method: 'PUT',
      token: tenant.staff.manager.token,
      body: { assigneeId: tenant.staff.member.id },
    })
    expectStatus(assigned, 200)
    expect(json<RequestBody>(assigned).assignee).toMatchObject({ id: tenant.staff.member.id })

    const cleared = await call(path, {
      method: 'PUT',
      token: tenant.staff.admin.token,
      body: { assigneeId: null },
    })
    expectStatus(cleared, 200)
    expect(json<RequestBody>(cleared).assignee).toBeNull()
    expect(await actions(request.id)).toEqual([
      'request.created',
      'request.assigned',
      'request.assigned',
    ])
  })

  it('moves through draft → sent → in_progress → completed, stamping each step', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const sent = await transition(tenant, request.id, 'sent')
    expectStatus(sent, 200)
    expect(json<RequestBody>(sent).sentAt).toEqual(expect.any(String))
    expectStatus(await transition(tenant, request.id, 'in_progress'), 200)
    // No live items: nothing is left to accept.
    const done = await transition(tenant, request.id, 'completed')
    expectStatus(done, 200)
    expect(json<RequestBody>(done)).toMatchObject({ status: 'completed' })
    expect(json<RequestBody>(done).completedAt).toEqual(expect.any(String))

    const trail = await call(`/v1/requests/${request.id}/activity`, {
      token: tenant.staff.member.token,
    })
    const events = json<Page<{ action: string; before: unknown; after: unknown }>>(trail).data
    expect(events.map((event) => [event.action, event.before, event.after])).toEqual([
      ['request.created', null, expect.objectContaining({ status: 'draft' })],
      ['request.sent', { status: 'draft' }, { status: 'sent' }],
      ['request.started', { status: 'sent' }, { status: 'in_progress' }],
      ['request.completed', { status: 'in_progress' }, { status: 'completed' }],
    ])
  })

  it('cancels an open request', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await transition(tenant, request.id, 'sent'), 200)
    const cancelled = await transition(tenant, request.id, 'cancelled')
    expectStatus(cancelled, 200)
    expect(json<RequestBody>(cancelled).cancelledAt).toEqual(expect.any(String))
  })

  it('deletes softly: gone from reads, a tombstone for syncs, items deleted with it', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const item = await createItem(tenant, request.id)
    const since = new Date(Date.now() - 60_000).toISOString()

    const gone = await call(`/v1/requests/${request.id}`, {
      method: 'DELETE',
      token: tenant.staff.manager.token,
    })
    expectStatus(gone, 204)
    const read = await call(`/v1/requests/${request.id}`, { token: tenant.staff.member.token })
    expectStatus(read, 404)
    expect((await list(tenant, '')).data).toEqual([])

    const sync = await list(tenant, `?updatedSince=${since}`)
    expect(sync.data).toHaveLength(1)
    expect(sync.data[0]).toMatchObject({ id: request.id, deletedAt: expect.any(String) })

    const items = await call(`/v1/items?updatedSince=${since}`, {
      token: tenant.staff.member.token,
    })
    expectStatus(items, 200)
    expect(json<Page<{ id: string; deletedAt: string | null }>>(items).data).toEqual([
      expect.objectContaining({ id: item.id, deletedAt: expect.any(String) }),
    ])
  })
})

describe('requests: lists', () => {
  it('filters by status, client, assignee, priority, due dates, overdue and text', async () => {
    const tenant = await seedTenant()
    const other = await secondClient(tenant)
    const a = await createRequest(tenant, {
      title: 'Alpha payroll',
      priority: 'high',
      dueDate: '2020-01-10',
      assigneeId: tenant.staff.member.id,
    })
    const b = await createRequest(tenant, {
      title: 'Beta leases',
      clientId: other,
      priority: 'low',
      dueDate: '2099-06-30',
    })
    await createRequest(tenant, { title: 'Gamma revenue', priority: 'urgent' })
    await createItem(tenant, b.id, { reference: 'BANK-7', title: 'Bank letters' })
    expectStatus(await transition(tenant, a.id, 'sent'), 200)

    expect(titles(await list(tenant, '?status=sent'))).toEqual(['Alpha payroll'])
    expect(titles(await list(tenant, '?status=draft&sort=createdAt'))).toEqual([
      'Beta leases',
      'Gamma revenue',
    ])
    expect(titles(await list(tenant, `?clientId=${other}`))).toEqual(['Beta leases'])
    expect(titles(await list(tenant, `?assigneeId=${tenant.staff.member.id}`))).toEqual([
      'Alpha payroll',
    ])
    expect(titles(await list(tenant, '?priority=urgent,low&sort=createdAt'))).toEqual([
      'Beta leases',
      'Gamma revenue',
    ])
    expect(titles(await list(tenant, '?dueBefore=2021-01-01'))).toEqual(['Alpha payroll'])
    expect(titles(await list(tenant, '?dueAfter=2021-01-01'))).toEqual(['Beta leases'])
    expect(titles(await list(tenant, '?overdue=true'))).toEqual(['Alpha payroll'])
    expect(titles(await list(tenant, '?overdue=false&sort=createdAt'))).toEqual([
      'Beta leases',
      'Gamma revenue',
    ])
    expect(titles(await list(tenant, '?q=PAYROLL'))).toEqual(['Alpha payroll'])
    // Text search also finds a request by one of its items' references.
    expect(titles(await list(tenant, '?q=bank-7'))).toEqual(['Beta leases'])
    // `%` and `_` are literal characters, not wildcards.
    expect(titles(await list(tenant, '?q=%25'))).toEqual([])
  })

  it('pages with a keyset cursor, due dates ascending with undated requests last', async () => {
    const tenant = await seedTenant()
    const dated = ['2027-01-03', '2027-01-01', '2027-01-02', '2027-01-02']
    for (const [index, dueDate] of dated.entries()) {
      await createRequest(tenant, { title: `dated ${index}`, dueDate })
    }
    for (const index of [0, 1, 2]) await createRequest(tenant, { title: `undated ${index}` })

    const seen: RequestBody[] = []
    let cursor: string | null = ''
    for (let page = 0; page < 10 && cursor !== null; page += 1) {
      const query: string = `?sort=dueDate&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const result = await list(tenant, query)
      expect(result.data.length).toBeLessThanOrEqual(2)
      seen.push(...result.data)
      cursor = result.nextCursor
    }
    expect(cursor).toBeNull()
    expect(seen).toHaveLength(7)
    expect(new Set(seen.map((row) => row.id)).size).toBe(7)
    expect(seen.map((row) => row.dueDate)).toEqual([
      '2027-01-01',
      '2027-01-02',
      '2027-01-02',
      '2027-01-03',
      null,
      null,
      null,
    ])

    const backwards: (string | null)[] = []
    cursor = ''
    for (let page = 0; page < 10 && cursor !== null; page += 1) {
      const query: string = `?sort=-dueDate&limit=3${cursor ? `&cursor=${cursor}` : ''}`
      const result = await list(tenant, query)
      backwards.push(...result.data.map((row) => row.dueDate as string | null))
      cursor = result.nextCursor
    }
    expect(backwards).toEqual([
      null,
      null,
      null,
      '2027-01-03',
      '2027-01-02',
      '2027-01-02',
      '2027-01-01',
    ])
  })

  it('lists newest first by default and answers 304 for an unchanged page', async () => {
    const tenant = await seedTenant()
    await createRequest(tenant, { title: 'first' })
    await createRequest(tenant, { title: 'second' })
    const response = await call('/v1/requests', { token: tenant.staff.member.token })
    expectStatus(response, 200)
    expect(titles(json<Page<RequestBody>>(response))).toEqual(['second', 'first'])

    const again = await call('/v1/requests', {
      token: tenant.staff.member.token,
      headers: { 'if-none-match': response.headers.get('etag') ?? '' },
    })
    expectStatus(again, 304)
  })

  it('syncs what changed since an instant, in order of change', async () => {
    const tenant = await seedTenant()
    const old = await createRequest(tenant, { title: 'old' })
    await createRequest(tenant, { title: 'untouched' })
    await database().execute(sql`
      update requests set updated_at = now() - interval '1 day'
      where organization_id = ${tenant.organization.id}::uuid`)
    const since = new Date(Date.now() - 60_000).toISOString()
    expectStatus(
      await call(`/v1/requests/${old.id}`, {
        method: 'PATCH',
        token: tenant.staff.manager.token,
        body: { title: 'old, edited' },
      }),
      200,
    )
    const fresh = await createRequest(tenant, { title: 'fresh' })

    const sync = await list(tenant, `?updatedSince=${since}`)
    expect(titles(sync)).toEqual(['old, edited', 'fresh'])
    const last = sync.data.at(-1)?.updatedAt
    expect(last).toBe(fresh.updatedAt)
    // The next sync from the newest instant seen sends that row again and nothing older.
    expect(titles(await list(tenant, `?updatedSince=${last}`))).toEqual(['fresh'])
  })
})
