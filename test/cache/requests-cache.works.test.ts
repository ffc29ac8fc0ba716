// The response cache wired into the real request and portal routes, on both backends: hits
// make no database round trip, writes anywhere in a request invalidate what they change,
// and ending access (logout, disabled contact, removed user) is never hidden by a hit.
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { scopesWrittenBy } from '../../src/cache/invalidation'
import { seedTenant, type Tenant } from '../access/tenant'
import { expectStatus, send, trips, upstashBindings, type Overrides } from './harness'
import { upstashConfigured, upstashSkipReason } from './helpers'

const backends: { name: string; overrides: Overrides; skip: string | undefined }[] = [
  { name: 'kv', overrides: {}, skip: undefined },
  {
    name: 'upstash',
    overrides: upstashBindings,
    skip: upstashConfigured ? undefined : upstashSkipReason,
  },
]

interface Options {
  token: string
  method?: string
  body?: unknown
  headers?: Record<string, string>
}

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(
    `cached request routes on ${backend.name}${backend.skip ? ` (${backend.skip})` : ''}`,
    () => {
      const call = (path: string, options: Options) =>
        send(path, {
          app: worker,
          method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
          headers: {
            authorization: `Bearer ${options.token}`,
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
          overrides: backend.overrides,
        })

      async function sentRequest(tenant: Tenant) {
        const manager = tenant.staff.manager.token
        const created = await call('/v1/requests', {
          token: manager,
          body: { clientId: tenant.client.id, title: 'Year-end audit' },
        })
        await expectStatus(created, 201)
        const { id } = (await created.json()) as { id: string }
        const item = await call(`/v1/requests/${id}/items`, {
          token: manager,
          body: { reference: 'A-1', title: 'Bank statements' },
        })
        await expectStatus(item, 201)
        const sent = await call(`/v1/requests/${id}/transitions`, {
          token: manager,
          body: { to: 'sent' },
        })
        await expectStatus(sent, 200)
        return id
      }

      /** Reads twice; the second must be a hit with the same body and ETag and no query. */
      async function expectCached(path: string, token: string) {
        const miss = await call(path, { token })
        await expectStatus(miss, 200)
        const hit = await call(path, { token })
        await expectStatus(hit, 200)
        expect(hit.headers.get('x-cache'), path).toBe('HIT')
        expect(trips(hit, 'db'), path).toBe(0)
        expect(hit.headers.get('etag'), path).toBe(miss.headers.get('etag'))
        expect(await hit.text(), path).toBe(await miss.text())

        const revalidated = await call(path, {
          token,
          headers: { 'if-none-match': hit.headers.get('etag') ?? '' },
        })
        await expectStatus(revalidated, 304)
        expect(trips(revalidated, 'db'), path).toBe(0)
      }

      it('serves staff lists, details and items from the cache', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const member = tenant.staff.member.token

        await expectCached('/v1/requests?status=sent', member)
        await expectCached(`/v1/requests/${id}`, member)
        await expectCached(`/v1/requests/${id}/items`, member)
      })

      it('serves the portal views from the cache, keyed by client', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const portal = tenant.portal.token

        await expectCached('/v1/portal/requests', portal)
        await expectCached(`/v1/portal/requests/${id}`, portal)
        await expectCached(`/v1/portal/requests/${id}/items`, portal)
        await expectCached(`/v1/portal/requests/${id}/comments`, portal)
      })

      it('shows a change to every reader at once: detail, list and portal', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const member = tenant.staff.member.token
        const portal = tenant.portal.token
        for (const [path, token] of [
          [`/v1/requests/${id}`, member],
          ['/v1/requests', member],
          [`/v1/portal/requests/${id}`, portal],
        ] as const) {
          await call(path, { token })
        }

        const patch = await call(`/v1/requests/${id}`, {
          token: tenant.staff.manager.token,
          method: 'PATCH',
          body: { title: 'Renamed audit' },
        })
        await expectStatus(patch, 200)

        const detail = await call(`/v1/requests/${id}`, { token: member })
        expect(detail.headers.get('x-cache')).toBe('MISS')
        expect(await detail.json()).toMatchObject({ title: 'Renamed audit' })
        const list = (await (await call('/v1/requests', { token: member })).json()) as {
          data: { id: string; title: string }[]
        }
        expect(list.data.find((row) => row.id === id)?.title).toBe('Renamed audit')
        const seen = await call(`/v1/portal/requests/${id}`, { token: portal })
        expect(await seen.json()).toMatchObject({ title: 'Renamed audit' })
      })

      it('shows a portal comment to staff at once', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const member = tenant.staff.member.token
        await call(`/v1/requests/${id}`, { token: member })

        const comment = await call(`/v1/portal/requests/${id}/comments`, {
          token: tenant.portal.token,
          body: { body: 'Uploaded tomorrow.' },
        })
        await expectStatus(comment, 201)
        // The client's first comment moves a sent request to in_progress.
        const detail = await call(`/v1/requests/${id}`, { token: member })
        expect(detail.headers.get('x-cache')).toBe('MISS')
        expect(await detail.json()).toMatchObject({ status: 'in_progress' })
      })

      it('ends a portal session at logout, even for a view that was cached', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const portal = tenant.portal.token
        await expectCached(`/v1/portal/requests/${id}`, portal)

        const logout = await call('/v1/portal/auth/logout', { token: portal, method: 'POST' })
        await expectStatus(logout, 204)
        const after = await call(`/v1/portal/requests/${id}`, { token: portal })
        await expectStatus(after, 401)
      })

      it('ends access for a disabled contact at once', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const portal = tenant.portal.token
        await expectCached('/v1/portal/requests', portal)

        const contactPath = `/v1/clients/${tenant.client.id}/contacts/${tenant.contact.id}`
        const disable = await call(contactPath, {
          token: tenant.staff.manager.token,
          method: 'PATCH',
          body: { disabled: true },
        })
        await expectStatus(disable, 200)
        await expectStatus(await call('/v1/portal/requests', { token: portal }), 401)
        await expectStatus(await call(`/v1/portal/requests/${id}`, { token: portal }), 401)
      })

      it('ends access for a removed staff member at once', async () => {
        const tenant = await seedTenant()
        const id = await sentRequest(tenant)
        const member = tenant.staff.member.token
        await expectCached(`/v1/requests/${id}`, member)

        const removal = await call(`/v1/users/${tenant.staff.member.id}`, {
          token: tenant.staff.owner.token,
          method: 'DELETE',
        })
        expect([200, 204], await removal.clone().text()).toContain(removal.status)
        const after = await call(`/v1/requests/${id}`, { token: member })
        expect(after.headers.get('x-cache')).not.toBe('HIT')
        expect([401, 403], await after.clone().text()).toContain(after.status)
      })
    },
  )
}

describe('what a write invalidates, from its path', () => {
  const id = '6a5cbce2-7a25-45a1-b5d2-fa774f005cc3'
  it.each([
    [`/v1/requests/${id}`, ['requests', `request:${id}`]],
    [`/v1/requests/${id.toUpperCase()}/items/x/accept`, ['requests', `request:${id}`]],
    [`/v1/requests/${id}/items/${id}/uploads/${id}/complete`, ['requests', `request:${id}`]],
    [`/v1/portal/requests/${id}/comments`, ['requests', `request:${id}`]],
    ['/v1/requests', ['requests']],
    [`/v1/clients/${id}/contacts/${id}`, ['directory']],
    [`/v1/users/${id}`, ['directory']],
    ['/v1/auth/login', []],
    ['/v1/portal/auth/logout', []],
    [`/v1/documents/${id}`, ['requests', 'directory']],
    ['/v1/something-new', ['requests', 'directory']],
  ])('%s bumps %j', (path, scopes) => {
    expect(scopesWrittenBy(path)).toEqual(scopes)
  })
})
