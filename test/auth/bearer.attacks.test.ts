// Bearer parsing and token lifetime: what a valid signature alone must not be enough for.
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { call, config, expectProblem, expectStatus, seedTenant } from '../access/tenant'

async function forge(claims: Record<string, unknown>, issuedAt: number, expiresAt: number) {
  const settings = config()
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(settings.JWT_ISSUER)
    .setAudience('currentmesh:staff')
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(settings.JWT_SECRET))
}

describe('bearer tokens', () => {
  it('accepts the scheme name in any case (RFC 9110)', async () => {
    const tenant = await seedTenant()
    const me = await call('/v1/me', {
      headers: { authorization: `bearer ${tenant.staff.owner.token}` },
    })
    expectStatus(me, 200)
  })

  it('refuses a correctly signed token that lives longer than this server signs for', async () => {
    const tenant = await seedTenant()
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: tenant.staff.owner.id, org: tenant.organization.id, role: 'owner', ver: 1 }
    const longLived = await forge(claims, now, now + 100 * 365 * 24 * 3600)
    expectProblem(await call('/v1/me', { token: longLived }), 401, 'unauthorized')

    const fromTheFuture = await forge(claims, now + 3600, now + 3600 + 600)
    expectProblem(await call('/v1/me', { token: fromTheFuture }), 401, 'unauthorized')

    const ordinary = await forge(claims, now, now + 600)
    expect((await call('/v1/me', { token: ordinary })).status).toBe(200)
  })
})
