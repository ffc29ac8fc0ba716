// The limits wired into the real Worker: every credential route is limited per client IP
// before its handler runs (so even malformed attempts count), and the authenticated API per
// user. Tight limits are set per test through the bindings.
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { credentialRoutes } from '../../src/rate-limit/credential-routes'
import { policiesFor } from '../../src/rate-limit/policies'
import { loadConfig } from '../../src/env'
import { seedTenant } from '../access/tenant'
import { bindings, expectStatus, send, testAddress } from '../cache/harness'

const variableOf: Record<string, string> = {
  login: 'RATE_LIMIT_LOGIN',
  signup: 'RATE_LIMIT_SIGNUP',
  refresh: 'RATE_LIMIT_REFRESH',
  'signin-links': 'RATE_LIMIT_SIGNIN_LINKS',
  'portal-sessions': 'RATE_LIMIT_PORTAL_SESSIONS',
  invitations: 'RATE_LIMIT_INVITATIONS',
}

describe('credential routes', () => {
  it('are all mounted as POST routes of the Worker', async () => {
    const response = await send('/openapi.json', { app: worker })
    await expectStatus(response, 200)
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> }
    for (const route of credentialRoutes) {
      expect(document.paths[route.path]?.post, route.path).toBeDefined()
    }
  })

  it('have tight, fail-closed per-IP defaults', () => {
    const defaults = { ...bindings() } as Record<string, unknown>
    for (const name of [...Object.values(variableOf), 'RATE_LIMIT_API', 'RATE_LIMIT_UPLOADS']) {
      delete defaults[name]
    }
    const policies = policiesFor(loadConfig(defaults))
    for (const route of credentialRoutes) {
      const policy = policies[route.policy]
      expect(policy).toMatchObject({ partition: 'ip', failure: 'closed' })
      expect(policy.quota / policy.windowSeconds, route.path).toBeLessThanOrEqual(30 / 300)
    }
    expect(policies.api).toMatchObject({ quota: 100, windowSeconds: 900, failure: 'open' })
    expect(policies.uploads).toMatchObject({ partition: 'organization', failure: 'open' })
  })

  it.each(credentialRoutes.map((route) => [route.path, route.policy] as const))(
    '%s refuses the third attempt from one IP with 429',
    async (path, policy) => {
      const address = testAddress()
      // An hour-long window: a fixed window rolling over mid-test would reset the count.
      const overrides = { [variableOf[policy] ?? 'missing']: '2/1h' }
      const attempt = (from = address) =>
        send(path, {
          app: worker,
          method: 'POST',
          headers: { 'cf-connecting-ip': from, 'content-type': 'application/json' },
          body: '{}',
          overrides,
        })

      for (let index = 0; index < 2; index += 1) {
        const allowed = await attempt()
        expect(allowed.status, await allowed.clone().text()).not.toBe(429)
        expect(allowed.headers.get('ratelimit-policy')).toBe(`"${policy}";q=2;w=3600`)
      }
      const refused = await attempt()
      await expectStatus(refused, 429)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await refused.json()).toMatchObject({ code: 'rate_limited', policy })

      const otherAddress = await attempt(testAddress())
      expect(otherAddress.status, await otherAddress.clone().text()).not.toBe(429)
    },
  )
})

describe('the authenticated API', () => {
  it('refuses a user past RATE_LIMIT_API and leaves colleagues alone', async () => {
    const tenant = await seedTenant()
    const overrides = { RATE_LIMIT_API: '2/15m' }
    const me = (token: string) =>
      send('/v1/me', { app: worker, headers: { authorization: `Bearer ${token}` }, overrides })

    await expectStatus(await me(tenant.staff.member.token), 200)
    await expectStatus(await me(tenant.staff.member.token), 200)
    const refused = await me(tenant.staff.member.token)
    await expectStatus(refused, 429)
    expect(refused.headers.get('ratelimit')).toMatch(/^"api";r=0;t=\d+$/)
    await expectStatus(await me(tenant.staff.admin.token), 200)
  })
})
