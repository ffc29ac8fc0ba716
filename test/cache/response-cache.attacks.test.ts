// What the cache must never do: serve one caller's or tenant's answer to another, keep
// serving a revoked session or a changed token, store errors, or trust a corrupted entry.
import { describe, expect, it } from 'vitest'
import { normalizedQuery } from '../../src/cache/response-cache'
import {
  bearer,
  cacheFor,
  expectStatus,
  portalToken,
  seedOrganization,
  send,
  staffToken,
  trips,
  upstashBindings,
  type Overrides,
} from './harness'
import { upstashConfigured, upstashSkipReason } from './helpers'

const backends: { name: string; overrides: Overrides; skip: string | undefined }[] = [
  { name: 'kv', overrides: {}, skip: undefined },
  {
    name: 'upstash',
    overrides: upstashBindings,
    skip: upstashConfigured ? undefined : upstashSkipReason,
  },
]

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(
    `response cache on ${backend.name} under attack${backend.skip ? ` (${backend.skip})` : ''}`,
    () => {
      const get = (path: string, token: string) =>
        send(path, { headers: bearer(token), overrides: backend.overrides })

      it('never serves an entry across organizations, even for the same path', async () => {
        const victim = await seedOrganization('Victim LLP')
        const insider = await staffToken(victim)
        await get(`/t/orgs/${victim}`, insider.token)
        await get(`/t/orgs/${victim}`, insider.token)

        const attackerOrg = await seedOrganization('Attacker LLP')
        const attacker = await staffToken(attackerOrg, 'member')
        const response = await get(`/t/orgs/${victim}`, attacker.token)
        expect(response.headers.get('x-cache')).toBe('MISS')
        expect(trips(response, 'db')).toBe(1)
      })

      it('stops serving a staff token whose auth version changed', async () => {
        const org = await seedOrganization()
        const before = await staffToken(org)
        await get(`/t/orgs/${org}`, before.token)
        expect((await get(`/t/orgs/${org}`, before.token)).headers.get('x-cache')).toBe('HIT')

        const after = await staffToken(org, 'member', {
          userId: before.principal.userId,
          authVersion: 2,
        })
        const bumped = await get(`/t/orgs/${org}`, after.token)
        expect(bumped.headers.get('x-cache')).toBe('MISS')
        // The old token's proof is gone too: the stored proof now names version 2.
        expect((await get(`/t/orgs/${org}`, before.token)).headers.get('x-cache')).toBe('MISS')
      })

      it('stops serving a portal session the moment it is forgotten (logout)', async () => {
        const org = await seedOrganization()
        const contact = await portalToken(org)
        await get(`/t/portal/orgs/${org}`, contact.token)
        const hit = await get(`/t/portal/orgs/${org}`, contact.token)
        expect(hit.headers.get('x-cache')).toBe('HIT')

        await cacheFor(backend.overrides).cache.forget({ sessionId: contact.principal.sessionId })
        const after = await get(`/t/portal/orgs/${org}`, contact.token)
        expect(after.headers.get('x-cache')).toBe('MISS')
        expect(trips(after, 'db')).toBe(1)
      })

      it('never stores errors: a missing row is asked for again every time', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)
        const missing = crypto.randomUUID()

        for (let index = 0; index < 2; index += 1) {
          const response = await get(`/t/orgs/${missing}`, token)
          await expectStatus(response, 404)
          expect(trips(response, 'db')).toBe(1)
        }
      })

      it('does not cache under a malformed id', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)

        const response = await get(`/t/orgs/not-a-uuid'--`, token)
        await expectStatus(response, 404)
        // No lookup, no version key named after the hostile value: the cache stays out.
        expect(response.headers.get('x-cache')).toBe('BYPASS')
      })

      it('treats a corrupted entry as a miss and replaces it', async () => {
        const org = await seedOrganization()
        const caller = await staffToken(org)
        const { cache, store } = cacheFor(backend.overrides)
        const path = `/t/orgs/${org}`
        const plan = await cache.plan({
          principal: caller.principal,
          path,
          query: normalizedQuery(`http://api.test${path}`),
          dependsOn: ['directory', `request:${org}`],
          perUser: false,
        })
        await store.set(plan.entryKey, '{"versions":"not a list","response":{}', 300)

        const response = await get(path, caller.token)
        await expectStatus(response, 200)
        expect(response.headers.get('x-cache')).toBe('MISS')
        expect((await get(path, caller.token)).headers.get('x-cache')).toBe('HIT')
      })

      it('repeats only stored headers: each hit has its own request id and timing', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)
        const miss = await get(`/t/orgs/${org}`, token)
        const hit = await get(`/t/orgs/${org}`, token)

        expect(hit.headers.get('x-cache')).toBe('HIT')
        expect(hit.headers.get('x-request-id')).not.toBe(miss.headers.get('x-request-id'))
        expect(hit.headers.get('set-cookie')).toBeNull()
        expect(hit.headers.get('ratelimit')).toMatch(/^"api";r=\d+;t=\d+$/)
      })

      it('serves but never stores an answer too large for the store', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)
        const query = Array.from({ length: 300 }, (_, index) => `p${index}=${'y'.repeat(2000)}`)
        const path = `/t/orgs/${org}?${query.join('&')}`

        for (let index = 0; index < 2; index += 1) {
          const response = await get(path, token)
          await expectStatus(response, 200)
          expect(response.headers.get('x-cache')).toBe('MISS')
          expect(response.headers.get('etag')).toBeTruthy()
        }
      })

      it('keys a huge query safely (hashed), and still answers', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)
        const query = Array.from({ length: 300 }, (_, index) => `p${index}=${'x'.repeat(20)}`)
        const response = await get(`/t/orgs/${org}?${query.join('&')}`, token)
        await expectStatus(response, 200)
        expect(response.headers.get('x-cache')).toBe('MISS')
      })
    },
  )
}
