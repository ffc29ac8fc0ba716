// Credentials that must never pass as a staff access token, and logins that must not tell
// an attacker which accounts exist.
import { SignJWT, UnsecuredJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { tokenKinds } from '../../src/auth/tokens'
import {
  call,
  config,
  expectProblem,
  expectStatus,
  json,
  latestMail,
  password,
  roundTrips,
  seedTenant,
  type Tenant,
  tokenIn,
  unique,
} from '../access/tenant'

const key = (secret: string) => new TextEncoder().encode(secret)

function claimsOf(tenant: Tenant) {
  return { org: tenant.organization.id, role: 'owner', ver: 1 }
}

function staffJwt(tenant: Tenant) {
  return new SignJWT(claimsOf(tenant))
    .setIssuer(config().JWT_ISSUER)
    .setAudience(tokenKinds.staff.audience)
    .setSubject(tenant.staff.owner.id)
    .setIssuedAt()
    .setExpirationTime('10m')
}

const me = (token: string) => call('/v1/me', { token })

describe('forged and misused tokens', () => {
  it('accepts the genuine article (so the refusals below mean something)', async () => {
    const tenant = await seedTenant()
    const token = await staffJwt(tenant)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(key(config().JWT_SECRET))
    expectStatus(await me(token), 200)
  })

  it('refuses alg none, another HMAC algorithm, another key and a missing typ', async () => {
    const tenant = await seedTenant()
    const secret = key(config().JWT_SECRET)
    const unsigned = new UnsecuredJWT(claimsOf(tenant))
      .setIssuer(config().JWT_ISSUER)
      .setAudience(tokenKinds.staff.audience)
      .setSubject(tenant.staff.owner.id)
      .setIssuedAt()
      .setExpirationTime('10m')
      .encode()
    const hs512 = await staffJwt(tenant)
      .setProtectedHeader({ alg: 'HS512', typ: 'at+jwt' })
      .sign(secret)
    const otherKey = await staffJwt(tenant)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(key('another-secret-of-at-least-32-characters!!'))
    const noTyp = await staffJwt(tenant).setProtectedHeader({ alg: 'HS256' }).sign(secret)
    const portalTyp = await staffJwt(tenant)
      .setProtectedHeader({ alg: 'HS256', typ: 'portal+jwt' })
      .sign(secret)
    const noExpiry = await new SignJWT(claimsOf(tenant))
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(config().JWT_ISSUER)
      .setAudience(tokenKinds.staff.audience)
      .setSubject(tenant.staff.owner.id)
      .setIssuedAt()
      .sign(secret)
    const otherIssuer = await staffJwt(tenant)
      .setIssuer('https://evil.example')
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(secret)

    for (const token of [unsigned, hs512, otherKey, noTyp, portalTyp, noExpiry, otherIssuer]) {
      expectProblem(await me(token), 401, 'unauthorized')
    }
  })

  it('refuses refresh tokens, invitation tokens and sign-in links as bearer tokens', async () => {
    const tenant = await seedTenant()
    const login = await call('/v1/auth/login', {
      body: { organization: tenant.organization.slug, email: tenant.staff.owner.email, password },
    })
    const { refreshToken } = json<{ refreshToken: string }>(login)

    const email = `bearer-${unique()}@firm.test`
    const owner = tenant.staff.owner.token
    await call('/v1/invitations', { token: owner, body: { email, role: 'member' } })
    const invitation = tokenIn((await latestMail(email))?.text ?? '', 'cmi_')

    await call('/v1/portal/auth/links', {
      body: { organization: tenant.organization.slug, email: tenant.contact.email },
    })
    const link = tokenIn((await latestMail(tenant.contact.email))?.text ?? '', 'cml_')

    for (const token of [refreshToken, invitation, link]) {
      expectProblem(await me(token), 401, 'unauthorized')
      expectProblem(await call('/v1/portal/me', { token }), 401, 'unauthorized')
    }
    // And a refresh token is not an invitation or a link either.
    expectProblem(
      await call('/v1/invitations/accept', {
        body: { token: refreshToken, password: 'long enough pw' },
      }),
      400,
      'validation_failed',
    )
  })
})

describe('login without enumeration', () => {
  it('answers unknown firm, unknown email, removed user, wrong password alike', async () => {
    const tenant = await seedTenant()
    const { owner, member } = tenant.staff
    await call(`/v1/users/${member.id}`, { method: 'DELETE', token: owner.token })
    const attempts = [
      { organization: `nope-${unique()}`, email: tenant.staff.owner.email, password },
      { organization: tenant.organization.slug, email: `nobody-${unique()}@firm.test`, password },
      { organization: tenant.organization.slug, email: tenant.staff.member.email, password },
      { organization: tenant.organization.slug, email: owner.email, password: 'wrong password!' },
    ]

    const answers = []
    for (const body of attempts) {
      const response = await call('/v1/auth/login', { body })
      expectProblem(response, 401, 'unauthorized')
      expect(roundTrips(response)).toBe(1)
      const { requestId: _id, ...rest } = response.body as Record<string, unknown>
      answers.push(rest)
    }
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1)
    const detail = 'The organization, email or password is incorrect.'
    expect(answers[0]).toMatchObject({ detail })
  })
})
