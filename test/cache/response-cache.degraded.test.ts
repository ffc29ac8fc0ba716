// When the cache backend is down (nothing listens) or slow (accepts, never answers), reads
// come from the database, writes still succeed, and each failure is logged; nothing fails
// because of the cache. Also: a hot key's lock held by another isolate.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { normalizedQuery } from '../../src/cache/response-cache'
import {
  bearer,
  cacheFor,
  downBindings,
  expectStatus,
  seedOrganization,
  send,
  staffToken,
  stalledBindings,
  trips,
  upstashBindings,
} from './harness'
import { sleep, upstashConfigured, upstashSkipReason } from './helpers'

/** Log lines (JSON) written at warn level while `work` ran. */
async function warnings(work: () => Promise<void>): Promise<{ message: string }[]> {
  const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  try {
    await work()
    return spy.mock.calls.map(([line]) => JSON.parse(String(line)) as { message: string })
  } finally {
    spy.mockRestore()
  }
}

afterEach(() => vi.restoreAllMocks())

describe.skipIf(!upstashConfigured)(
  `cache backend unavailable${upstashConfigured ? '' : ` (${upstashSkipReason})`}`,
  () => {
    it('serves reads from the database and logs when nothing listens', async () => {
      const org = await seedOrganization()
      const { token } = await staffToken(org)
      const responses: Response[] = []

      const logged = await warnings(async () => {
        for (let index = 0; index < 2; index += 1) {
          const init = { headers: bearer(token), overrides: downBindings() }
          responses.push(await send(`/t/orgs/${org}`, init))
        }
      })
      for (const response of responses) {
        await expectStatus(response, 200)
        expect(response.headers.get('x-cache')).toBe('BYPASS')
        expect(trips(response, 'db')).toBe(1)
        expect(response.headers.get('etag')).toBeTruthy()
      }
      const messages = logged.map((line) => line.message)
      expect(messages).toContain('cache lookup failed; serving from the database')
      // The authenticated API's limiter fails open, and says so.
      expect(messages).toContain('rate limiter unavailable')
    })

    it('gives up on a backend that never answers after CACHE_TIMEOUT_MS', async () => {
      const org = await seedOrganization()
      const { token } = await staffToken(org)
      const started = Date.now()

      const response = await send(`/t/orgs/${org}`, {
        headers: bearer(token),
        overrides: stalledBindings(),
      })
      await expectStatus(response, 200)
      expect(response.headers.get('x-cache')).toBe('BYPASS')
      // Limiter and lookup each wait 150 ms at most; nothing else touches the cache.
      expect(Date.now() - started).toBeLessThan(1500)
    })

    it('lets writes succeed and logs that entries may be stale until they expire', async () => {
      const org = await seedOrganization()
      const { token } = await staffToken(org)

      const logged = await warnings(async () => {
        const rename = await send(`/t/orgs/${org}/rename`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Written anyway' }),
          overrides: downBindings(),
        })
        await expectStatus(rename, 204)
      })
      const failure = logged.find((line) => line.message.startsWith('cache invalidation failed'))
      expect(failure).toMatchObject({ staleUpToSeconds: 300 })
    })
  },
)

describe.skipIf(!upstashConfigured)(
  `a refill in another isolate${upstashConfigured ? '' : ` (${upstashSkipReason})`}`,
  () => {
    const path = (org: string) => `/t/orgs/${org}`
    const planFor = async (org: string, token: Awaited<ReturnType<typeof staffToken>>) => {
      const { cache, store } = cacheFor(upstashBindings)
      const plan = await cache.plan({
        principal: token.principal,
        path: path(org),
        query: normalizedQuery(`http://api.test${path(org)}`),
        dependsOn: ['directory', `request:${org}`],
        perUser: false,
      })
      return { cache, store, plan }
    }

    it('waits for the lock holder and answers from its entry without a query', async () => {
      const org = await seedOrganization()
      const caller = await staffToken(org)
      const { cache, store, plan } = await planFor(org, caller)
      expect(await store.tryLock(plan.lockKey, 5000)).toBe(true)

      const waiting = send(path(org), { headers: bearer(caller.token), overrides: upstashBindings })
      await sleep(150)
      const lookup = await cache.lookup(plan, caller.principal)
      if (lookup.kind !== 'miss') throw new Error(`expected a miss, got ${lookup.kind}`)
      const body = JSON.stringify({ id: org, name: 'Filled by another isolate', query: {} })
      const headers = { 'content-type': 'application/json', etag: 'W/"other"' }
      await cache.fill(plan, lookup, { status: 200, headers, body }, true)

      const response = await waiting
      await expectStatus(response, 200)
      expect(response.headers.get('x-cache')).toBe('HIT')
      expect(trips(response, 'db')).toBe(0)
      expect(await response.text()).toBe(body)
    })

    it('queries itself once CACHE_LOCK_MS passes without a refill', async () => {
      const org = await seedOrganization()
      const caller = await staffToken(org)
      const { store, plan } = await planFor(org, caller)
      expect(await store.tryLock(plan.lockKey, 5000)).toBe(true)
      const started = Date.now()

      const response = await send(path(org), {
        headers: bearer(caller.token),
        overrides: { ...upstashBindings, CACHE_LOCK_MS: '300' },
      })
      await expectStatus(response, 200)
      expect(response.headers.get('x-cache')).toBe('MISS')
      expect(trips(response, 'db')).toBe(1)
      expect(Date.now() - started).toBeGreaterThanOrEqual(280)
    })
  },
)
