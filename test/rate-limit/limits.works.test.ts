// Rate-limit policies on both backends through the real middleware and store: who shares a
// budget, what the headers say, and how a refusal looks.
import { describe, expect, it } from 'vitest'
import {
  bearer,
  expectStatus,
  portalToken,
  seedOrganization,
  send,
  staffToken,
  testAddress,
  upstashBindings,
  type Overrides,
} from '../cache/harness'
import { upstashConfigured, upstashSkipReason } from '../cache/helpers'

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
    `rate limits on ${backend.name}${backend.skip ? ` (${backend.skip})` : ''}`,
    () => {
      const login = (address: string, limits: Overrides, headers: Record<string, string> = {}) =>
        send('/t/login', {
          method: 'POST',
          headers: { 'cf-connecting-ip': address, ...headers },
          overrides: { ...backend.overrides, ...limits },
        })

      it('advertises the policy and what is left on every answer', async () => {
        const address = testAddress()
        // Hour-long windows here: a fixed window rolling over mid-test would reset the count.
        const limits = { RATE_LIMIT_LOGIN: '3/1h' }

        const answers = [await login(address, limits), await login(address, limits)]
        for (const answer of answers) {
          await expectStatus(answer, 200)
          expect(answer.headers.get('ratelimit-policy')).toBe('"login";q=3;w=3600')
        }
        const [first, second] = answers.map((answer) => answer.headers.get('ratelimit') ?? '')
        expect(first).toMatch(/^"login";r=2;t=[1-9]\d{0,3}$/)
        expect(second).toMatch(/^"login";r=1;t=[1-9]\d{0,3}$/)
        for (const header of [first, second]) {
          expect(Number(header?.split('t=')[1])).toBeLessThanOrEqual(3600)
        }
      })

      it('refuses past the quota with 429 problem+json and an integer Retry-After', async () => {
        const address = testAddress()
        const limits = { RATE_LIMIT_LOGIN: '2/1h' }
        await login(address, limits)
        await login(address, limits)

        const refused = await login(address, limits)
        await expectStatus(refused, 429)
        expect(refused.headers.get('content-type')).toBe('application/problem+json')
        const retryAfter = refused.headers.get('retry-after') ?? ''
        expect(retryAfter).toMatch(/^\d+$/)
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
        expect(Number(retryAfter)).toBeLessThanOrEqual(3600)
        expect(refused.headers.get('ratelimit')).toBe(`"login";r=0;t=${retryAfter}`)
        expect(refused.headers.get('ratelimit-policy')).toBe('"login";q=2;w=3600')
        expect(await refused.json()).toMatchObject({
          status: 429,
          code: 'rate_limited',
          policy: 'login',
          type: 'urn:currentmesh:problem:rate_limited',
        })
      })

      it('keys credential routes by CF-Connecting-IP and ignores X-Forwarded-For', async () => {
        const address = testAddress()
        const limits = { RATE_LIMIT_LOGIN: '1/1h' }
        await login(address, limits)

        const spoofed = await login(address, limits, { 'x-forwarded-for': testAddress() })
        await expectStatus(spoofed, 429)
        const elsewhere = await login(testAddress(), limits, { 'x-forwarded-for': address })
        await expectStatus(elsewhere, 200)
      })

      it('gives an IPv6 /64 one budget', async () => {
        const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`
        const limits = { RATE_LIMIT_LOGIN: '1/1h' }
        await expectStatus(await login(`${prefix}::1`, limits), 200)

        await expectStatus(await login(`${prefix}:ffff:ffff:ffff:2`, limits), 429)
      })

      it('budgets the authenticated API per user and per portal contact', async () => {
        const org = await seedOrganization()
        const alice = await staffToken(org)
        const bob = await staffToken(org)
        const contact = await portalToken(org)
        const limits = { ...backend.overrides, RATE_LIMIT_API: '2/15m' }
        const ping = (token: string) =>
          send('/t/ping', { headers: bearer(token), overrides: limits })

        await expectStatus(await ping(alice.token), 200)
        const second = await ping(alice.token)
        await expectStatus(second, 200)
        expect(second.headers.get('ratelimit-policy')).toBe('"api";q=2;w=900')
        await expectStatus(await ping(alice.token), 429)

        await expectStatus(await ping(bob.token), 200)
        const portal = await send(`/t/portal/orgs/${org}`, {
          headers: bearer(contact.token),
          overrides: limits,
        })
        await expectStatus(portal, 200)
        expect(portal.headers.get('ratelimit')).toMatch(/^"api";r=1;t=\d+$/)
      })

      it('budgets upload intents per organization, on top of the per-user budget', async () => {
        const org = await seedOrganization()
        const first = await staffToken(org)
        const second = await staffToken(org)
        const otherOrg = await staffToken(await seedOrganization())
        const limits = { ...backend.overrides, RATE_LIMIT_UPLOADS: '2/1h' }
        const upload = (token: string) =>
          send('/t/uploads', { method: 'POST', headers: bearer(token), overrides: limits })

        await expectStatus(await upload(first.token), 200)
        const both = await upload(second.token)
        await expectStatus(both, 200)
        expect(both.headers.get('ratelimit-policy')).toBe(
          `"api";q=100000;w=60, "uploads";q=2;w=3600`,
        )
        await expectStatus(await upload(first.token), 429)
        await expectStatus(await upload(otherOrg.token), 200)
      })
    },
  )
}
