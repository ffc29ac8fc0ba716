// The response cache on both backends, through the real request context, auth, store and
// database (test/cache/harness.ts): hits, keys, validators, invalidation and single flight.
import { describe, expect, it } from 'vitest'
import {
  bearer,
  expectStatus,
  portalToken,
  seedOrganization,
  send,
  staffToken,
  trips,
  upstashBindings,
  type Overrides,
} from './harness'
import { sleep, upstashConfigured, upstashSkipReason } from './helpers'

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
    `response cache on ${backend.name}${backend.skip ? ` (${backend.skip})` : ''}`,
    () => {
      const get = (path: string, token: string, headers: Record<string, string> = {}) =>
        send(path, { headers: { ...bearer(token), ...headers }, overrides: backend.overrides })

      it('answers a repeat from the cache: same body and ETag, no database trip', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)

        const first = await get(`/t/orgs/${org}`, token)
        await expectStatus(first, 200)
        expect(first.headers.get('x-cache')).toBe('MISS')
        expect(trips(first, 'db')).toBe(1)

        const second = await get(`/t/orgs/${org}`, token)
        await expectStatus(second, 200)
        expect(second.headers.get('x-cache')).toBe('HIT')
        expect(trips(second, 'db')).toBe(0)
        expect(trips(second, 'cache')).toBeGreaterThanOrEqual(1)
        expect(await second.text()).toBe(await first.text())
        expect(second.headers.get('etag')).toBeTruthy()
        expect(second.headers.get('etag')).toBe(first.headers.get('etag'))
        expect(second.headers.get('content-type')).toMatch(/application\/json/)
      })

      it('answers If-None-Match with 304 on a miss and on a hit alike', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)
        const etag = (await get(`/t/orgs/${org}`, token)).headers.get('etag') ?? ''

        const hit = await get(`/t/orgs/${org}`, token, { 'if-none-match': etag })
        await expectStatus(hit, 304)
        expect(hit.headers.get('x-cache')).toBe('HIT')
        expect(hit.headers.get('etag')).toBe(etag)
        expect(await hit.text()).toBe('')

        // `/mine` is another key with the same body: a miss, and the same hashed ETag.
        const miss = await get(`/t/orgs/${org}/mine`, token, { 'if-none-match': `"x", ${etag}` })
        expect(miss.headers.get('x-cache')).toBe('MISS')
        await expectStatus(miss, 304)
        expect(miss.headers.get('etag')).toBe(etag)

        const changed = await get(`/t/orgs/${org}`, token, { 'if-none-match': '"other"' })
        await expectStatus(changed, 200)
      })

      it('shares entries within one role, not across roles or organizations', async () => {
        const org = await seedOrganization()
        const alice = await staffToken(org, 'member')
        const bob = await staffToken(org, 'member')
        const admin = await staffToken(org, 'admin')
        await get(`/t/orgs/${org}`, alice.token)

        expect((await get(`/t/orgs/${org}`, bob.token)).headers.get('x-cache')).toBe('MISS')
        // Bob's proof is now stored too; the shared entry serves him.
        expect((await get(`/t/orgs/${org}`, bob.token)).headers.get('x-cache')).toBe('HIT')
        expect((await get(`/t/orgs/${org}`, admin.token)).headers.get('x-cache')).toBe('MISS')

        const elsewhere = await seedOrganization()
        const stranger = await staffToken(elsewhere, 'member')
        const foreign = await get(`/t/orgs/${org}`, stranger.token)
        expect(foreign.headers.get('x-cache')).toBe('MISS')
      })

      it('keys per user where the route asks for it', async () => {
        const org = await seedOrganization()
        const alice = await staffToken(org)
        const bob = await staffToken(org)
        await get(`/t/orgs/${org}/mine`, alice.token)
        await get(`/t/orgs/${org}/mine`, bob.token)

        expect((await get(`/t/orgs/${org}/mine`, alice.token)).headers.get('x-cache')).toBe('HIT')
        const bobs = await get(`/t/orgs/${org}/mine`, bob.token)
        expect(bobs.headers.get('x-cache')).toBe('HIT')
      })

      it('normalizes the query: parameter order does not matter, values do', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)
        await get(`/t/orgs/${org}?status=sent&sort=due`, token)

        const reordered = await get(`/t/orgs/${org}?sort=due&status=sent`, token)
        expect(reordered.headers.get('x-cache')).toBe('HIT')
        const changed = await get(`/t/orgs/${org}?sort=due&status=draft`, token)
        expect(changed.headers.get('x-cache')).toBe('MISS')
      })

      it('keys portal answers by client: one client\'s contacts share, others do not', async () => {
        const org = await seedOrganization()
        const first = await portalToken(org)
        const colleague = await portalToken(org, { clientId: first.principal.clientId })
        const otherClient = await portalToken(org)
        await get(`/t/portal/orgs/${org}`, first.token)
        await get(`/t/portal/orgs/${org}`, colleague.token)

        expect((await get(`/t/portal/orgs/${org}`, colleague.token)).headers.get('x-cache')).toBe(
          'HIT',
        )
        const other = await get(`/t/portal/orgs/${org}`, otherClient.token)
        expect(other.headers.get('x-cache')).toBe('MISS')
      })

      it('serves the new data right after a write, and keeps unrelated entries', async () => {
        const org = await seedOrganization('Before & Co')
        const unrelated = await seedOrganization('Unrelated')
        const writer = await staffToken(org)
        const reader = await staffToken(org)
        const unrelatedReader = await staffToken(unrelated)
        await get(`/t/orgs/${org}`, reader.token)
        await get(`/t/orgs/${org}`, reader.token)
        await get(`/t/orgs/${unrelated}`, unrelatedReader.token)

        const rename = await send(`/t/orgs/${org}/rename`, {
          method: 'POST',
          headers: { ...bearer(writer.token), 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'After & Co' }),
          overrides: backend.overrides,
        })
        await expectStatus(rename, 204)

        const own = await get(`/t/orgs/${org}`, writer.token)
        expect(await own.json()).toMatchObject({ name: 'After & Co' })
        // KV: the writer skips the cache for a while; Upstash: the bumped version misses.
        expect(own.headers.get('x-cache')).toBe(backend.name === 'kv' ? 'BYPASS' : 'MISS')
        const other = await get(`/t/orgs/${org}`, reader.token)
        expect(await other.json()).toMatchObject({ name: 'After & Co' })
        const kept = await get(`/t/orgs/${unrelated}`, unrelatedReader.token)
        expect(kept.headers.get('x-cache')).toBe('HIT')
      })

      it('sends one query for a burst of identical misses', async () => {
        const org = await seedOrganization()
        const { token } = await staffToken(org)

        const burst = await Promise.all(
          Array.from({ length: 20 }, () => get(`/t/orgs/${org}?burst=1`, token)),
        )
        for (const response of burst) await expectStatus(response, 200)
        const queries = burst.reduce((sum, response) => sum + trips(response, 'db'), 0)
        expect(queries).toBeLessThanOrEqual(2)
        const bodies = new Set(await Promise.all(burst.map((response) => response.text())))
        expect(bodies.size).toBe(1)
      })

      it.skipIf(backend.name === 'kv')(
        'expires entries after CACHE_TTL_SECONDS (KV cannot expire sooner than 60 s)',
        async () => {
          const org = await seedOrganization()
          const { token } = await staffToken(org)
          const short = { ...backend.overrides, CACHE_TTL_SECONDS: '1' }
          const read = () =>
            send(`/t/orgs/${org}?ttl=1`, { headers: bearer(token), overrides: short })
          await read()
          expect((await read()).headers.get('x-cache')).toBe('HIT')

          await sleep(1200)
          expect((await read()).headers.get('x-cache')).toBe('MISS')
        },
      )
    },
  )
}
