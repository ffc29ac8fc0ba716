// The failure policy per route when the limiter cannot be reached (nothing listens, or it
// never answers): credential routes fail closed with 503, the authenticated API fails open.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  bearer,
  downBindings,
  expectStatus,
  seedOrganization,
  send,
  staffToken,
  stalledBindings,
  testAddress,
} from '../cache/harness'
import { upstashConfigured, upstashSkipReason } from '../cache/helpers'

afterEach(() => vi.restoreAllMocks())

const outages = [
  { name: 'nothing listens', overrides: downBindings },
  { name: 'it never answers', overrides: stalledBindings },
]

for (const outage of outages) {
  describe.skipIf(!upstashConfigured)(
    `limiter unreachable: ${outage.name}${upstashConfigured ? '' : ` (${upstashSkipReason})`}`,
    () => {
      it('closes credential routes with 503 dependency_unavailable and Retry-After', async () => {
        const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)

        const refused = await send('/t/login', {
          method: 'POST',
          headers: { 'cf-connecting-ip': testAddress() },
          overrides: outage.overrides(),
        })
        await expectStatus(refused, 503)
        expect(refused.headers.get('retry-after')).toBe('5')
        expect(refused.headers.get('ratelimit')).toBeNull()
        expect(await refused.json()).toMatchObject({
          code: 'dependency_unavailable',
          dependency: 'rate-limiter',
        })
        const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as object)
        expect(lines).toContainEqual(
          expect.objectContaining({ message: 'rate limiter unavailable', failure: 'closed' }),
        )
      })

      it('keeps the authenticated API open and logs it', async () => {
        const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
        const { token } = await staffToken(await seedOrganization())

        const init = { headers: bearer(token), overrides: outage.overrides() }
        const answer = await send('/t/ping', init)
        await expectStatus(answer, 200)
        expect(answer.headers.get('ratelimit-policy')).toBe('"api";q=100000;w=60')
        expect(answer.headers.get('ratelimit')).toBeNull()
        const lines = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as object)
        expect(lines).toContainEqual(
          expect.objectContaining({
            message: 'rate limiter unavailable',
            failure: 'open',
            policy: 'api',
          }),
        )
      })
    },
  )
}
