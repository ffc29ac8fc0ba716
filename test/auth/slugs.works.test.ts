// Organization slugs are case-insensitive like emails: sign-up stores them folded, and login
// and the portal link request fold what they are given before looking the firm up.
import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  expectStatus,
  json,
  latestMail,
  password,
  roundTrips,
  seedTenant,
  tokenIn,
  unique,
} from '../access/tenant'

const login = (organization: string, email: string) =>
  call('/v1/auth/login', { body: { organization, email, password } })

describe('slug case', () => {
  it('login accepts the slug in any case', async () => {
    const tenant = await seedTenant()
    const shouted = tenant.organization.slug.toUpperCase()
    expect(shouted).not.toBe(tenant.organization.slug)

    const response = await login(shouted, tenant.staff.member.email)
    expectStatus(response, 200)
    expect(roundTrips(response)).toBe(2)
    const user = json<{ user: { id: string; organization: { slug: string } } }>(response).user
    expect(user.id).toBe(tenant.staff.member.id)
    expect(user.organization.slug).toBe(tenant.organization.slug)
  })

  it('sign-up stores the slug folded; the folded and the shouted forms are one firm', async () => {
    const tag = unique()
    const email = `owner-${tag}@firm.test`
    const created = await call('/v1/auth/signup', {
      body: {
        organization: { name: `Firm ${tag}`, slug: `Mixed-${tag.toUpperCase()}` },
        owner: { name: 'Owner', email, password },
      },
    })
    expectStatus(created, 201)
    const slug = `mixed-${tag}`
    expect(json<{ user: { organization: { slug: string } } }>(created).user.organization.slug).toBe(
      slug,
    )

    expectStatus(await login(slug, email), 200)
    const again = await call('/v1/auth/signup', {
      body: {
        organization: { name: 'Copycat', slug },
        owner: { name: 'Other', email: `other-${tag}@firm.test`, password },
      },
    })
    expectProblem(again, 409, 'conflict')
  })

  it('a portal link request with the slug in another case mails the link', async () => {
    const tenant = await seedTenant()
    const asked = await call('/v1/portal/auth/links', {
      body: { organization: tenant.organization.slug.toUpperCase(), email: tenant.contact.email },
    })
    expectStatus(asked, 202)
    expect(roundTrips(asked)).toBe(1)

    const mail = await latestMail(tenant.contact.email)
    expect(mail?.kind).toBe('portal_sign_in')
    tokenIn(mail?.text ?? '', 'cml_')
  })

  it('a slug that is not one by form is a 400 naming the field, before any query', async () => {
    const tenant = await seedTenant()
    for (const organization of ['no_underscores', '-edge', 'x', 'a'.repeat(64), '']) {
      const refused = await login(organization, tenant.staff.member.email)
      expectProblem(refused, 400, 'validation_failed')
      expect(refused.text).toContain('"path":"body.organization"')
      expect(roundTrips(refused), organization).toBe(0)

      const link = await call('/v1/portal/auth/links', {
        body: { organization, email: tenant.contact.email },
      })
      expectProblem(link, 400, 'validation_failed')
      expect(link.text).toContain('"path":"body.organization"')
    }
  })
})
