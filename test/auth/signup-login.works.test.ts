import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  expectStatus,
  json,
  password,
  roundTrips,
  seedTenant,
  unique,
} from '../access/tenant'

interface Session {
  accessToken: string
  tokenType: string
  expiresIn: number
  refreshToken: string
  refreshExpiresIn: number
  user: { id: string; email: string; role: string; organization: { id: string; slug: string } }
}

const signupBody = (tag: string) => ({
  organization: { name: `Firm ${tag}`, slug: `signup-${tag}` },
  owner: { name: 'Ada Owner', email: `Ada.${tag}@Example.COM`, password },
})

describe('sign-up', () => {
  it('creates the organization and its owner, signs the owner in, in one round trip', async () => {
    const tag = unique()
    const response = await call('/v1/auth/signup', { body: signupBody(tag) })

    expectStatus(response, 201)
    expect(roundTrips(response)).toBe(1)
    const session = json<Session>(response)
    expect(session).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      user: {
        email: `ada.${tag}@example.com`,
        role: 'owner',
        organization: { slug: `signup-${tag}` },
      },
    })
    expect(session.refreshToken).toMatch(/^cmr_[A-Za-z0-9_-]{43}$/)
    const fields = ['email', 'id', 'name', 'organization', 'role']
    expect(Object.keys(session.user).sort()).toEqual(fields)

    const me = await call('/v1/me', { token: session.accessToken })
    expectStatus(me, 200)
    expect(roundTrips(me)).toBe(1)
    expect(json(me)).toEqual(session.user)
  })

  it('refuses a slug that is taken with 409', async () => {
    const tag = unique()
    expectStatus(await call('/v1/auth/signup', { body: signupBody(tag) }), 201)
    const again = signupBody(tag)
    again.owner.email = `other-${tag}@example.com`
    expectProblem(await call('/v1/auth/signup', { body: again }), 409, 'conflict')
  })

  it('refuses unknown fields and weak passwords with 400', async () => {
    const tag = unique()
    const extra = { ...signupBody(tag), plan: 'enterprise' }
    const unknown = await call('/v1/auth/signup', { body: extra })
    expectProblem(unknown, 400, 'validation_failed')
    expect(unknown.text).toContain('body.plan')

    const weak = signupBody(tag)
    weak.owner.password = 'short'
    expectProblem(await call('/v1/auth/signup', { body: weak }), 400, 'validation_failed')
  })
})

describe('login', () => {
  it('signs in with organization slug, case-insensitive email and password', async () => {
    const tenant = await seedTenant()
    const response = await call('/v1/auth/login', {
      body: {
        organization: tenant.organization.slug,
        email: tenant.staff.manager.email.toUpperCase(),
        password,
      },
    })

    expectStatus(response, 200)
    expect(roundTrips(response)).toBe(2)
    const session = json<Session>(response)
    expect(session.user).toMatchObject({ id: tenant.staff.manager.id, role: 'manager' })
    expect(response.text).not.toContain('passwordHash')
    expect(response.text).not.toContain('pbkdf2')
  })
})
