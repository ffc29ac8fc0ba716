// Portal sign-in: a contact asks for a link by email; the mail link carries the token in its
// fragment; inspecting it (a POST, token in the body) shows it without using it up; an
// explicit POST consumes it once and returns a portal session token.
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/auth/secrets'
import { portalSignInLinks } from '../../src/db/schema'
import {
  call,
  config,
  database,
  expectProblem,
  expectStatus,
  json,
  latestMail,
  roundTrips,
  seedTenant,
  type Tenant,
  tokenIn,
  unique,
} from '../access/tenant'

interface PortalSession {
  accessToken: string
  tokenType: string
  expiresIn: number
  contact: { id: string; email: string }
  client: { id: string }
  organization: { slug: string }
}

async function requestLink(tenant: Tenant, email = tenant.contact.email) {
  const response = await call('/v1/portal/auth/links', {
    body: { organization: tenant.organization.slug, email },
  })
  expectStatus(response, 202)
  return response
}

async function linkToken(tenant: Tenant) {
  await requestLink(tenant)
  const mail = await latestMail(tenant.contact.email)
  expect(mail?.kind).toBe('portal_sign_in')
  return tokenIn(mail?.text ?? '', 'cml_')
}

const open = (token: string) => call('/v1/portal/auth/links/inspect', { body: { token } })
const consume = (token: string) => call('/v1/portal/auth/sessions', { body: { token } })

describe('portal sign-in', () => {
  it('mails a link, shows it, consumes it once and signs the contact in', async () => {
    const tenant = await seedTenant()
    const token = await linkToken(tenant)

    const shown = await open(token)
    expectStatus(shown, 200)
    expect(roundTrips(shown)).toBe(1)
    expect(shown.headers.get('cache-control')).toBe('no-store')
    expect(json(shown)).toMatchObject({
      organization: { slug: tenant.organization.slug },
      client: { id: tenant.client.id },
      contact: { id: tenant.contact.id, email: tenant.contact.email },
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    })

    const started = await consume(token)
    expectStatus(started, 201)
    expect(roundTrips(started)).toBe(1)
    const session = json<PortalSession>(started)
    expect(session).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 8 * 60 * 60,
      contact: { id: tenant.contact.id },
      client: { id: tenant.client.id },
    })

    const me = await call('/v1/portal/me', { token: session.accessToken })
    expectStatus(me, 200)
    expect(roundTrips(me)).toBe(1)
    expect(json(me)).toMatchObject({
      contact: { id: tenant.contact.id },
      client: { id: tenant.client.id },
    })

    const out = await call('/v1/portal/auth/logout', { method: 'POST', token: session.accessToken })
    expectStatus(out, 204)
    expect(roundTrips(out)).toBe(1)
    expectProblem(await call('/v1/portal/me', { token: session.accessToken }), 401, 'unauthorized')
  })

  it('answers unknown emails exactly like known ones and mails nothing', async () => {
    const tenant = await seedTenant()
    const stranger = `stranger-${unique()}@client.test`

    const known = await requestLink(tenant)
    const unknown = await requestLink(tenant, stranger)
    const unknownFirm = await call('/v1/portal/auth/links', {
      body: { organization: `nope-${unique()}`, email: tenant.contact.email },
    })

    expect(unknown.text).toBe(known.text)
    expect(unknownFirm.text).toBe(known.text)
    expect(unknownFirm.status).toBe(known.status)
    expect(roundTrips(unknown)).toBe(roundTrips(known))
    expect(await latestMail(stranger)).toBeUndefined()
  })
})

describe('single-use link', () => {
  it('opening twice does not consume; the first consume works, the second is refused', async () => {
    const tenant = await seedTenant()
    const token = await linkToken(tenant)

    expectStatus(await open(token), 200)
    expectStatus(await open(token), 200)
    expectStatus(await consume(token), 201)

    expectProblem(await consume(token), 401, 'unauthorized')
    expectProblem(await open(token), 404, 'not_found')
  })

  it('two concurrent consumes: exactly one session', async () => {
    const tenant = await seedTenant()
    const token = await linkToken(tenant)

    const results = await Promise.all([consume(token), consume(token), consume(token)])
    expect(results.map((result) => result.status).sort()).toEqual([201, 401, 401])
  })

  it('an expired link is refused when opened and when consumed', async () => {
    const tenant = await seedTenant()
    const token = await linkToken(tenant)
    await database()
      .update(portalSignInLinks)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(portalSignInLinks.tokenHash, await hashSecret(token)))

    expectProblem(await open(token), 404, 'not_found')
    expectProblem(await consume(token), 401, 'unauthorized')
  })

  it('a link for a contact disabled meanwhile is refused', async () => {
    const tenant = await seedTenant()
    const token = await linkToken(tenant)
    const disabled = await call(`/v1/clients/${tenant.client.id}/contacts/${tenant.contact.id}`, {
      method: 'PATCH',
      token: tenant.staff.manager.token,
      body: { disabled: true },
    })
    expectStatus(disabled, 200)

    expectProblem(await open(token), 404, 'not_found')
    expectProblem(await consume(token), 401, 'unauthorized')
  })

  it('malformed tokens answer 400 on inspect and on consume, without a query', async () => {
    const opened = await open('cml_short')
    expectProblem(opened, 400, 'validation_failed')
    expect(roundTrips(opened)).toBe(0)
    const refreshLike = `cmr_${'a'.repeat(43)}`
    const consumed = await consume(refreshLike)
    expectProblem(consumed, 400, 'validation_failed')
    expect(roundTrips(consumed)).toBe(0)
    const extra = await call('/v1/portal/auth/links/inspect', {
      body: { token: `cml_${'a'.repeat(43)}`, consume: true },
    })
    expectProblem(extra, 400, 'validation_failed')
  })
})

describe('the token stays out of URLs', () => {
  it('the sign-in mail carries the token in the fragment, never in the path', async () => {
    const tenant = await seedTenant()
    await requestLink(tenant)
    const text = (await latestMail(tenant.contact.email))?.text ?? ''
    const base = config().PORTAL_BASE_URL

    const token = tokenIn(text, 'cml_')
    expect(text).toContain(`${base}/sign-in#token=${token}`)
    expect(text).not.toMatch(/\/sign-in\/cml_/)
    expect(text).not.toMatch(/[?&]token=/)
  })

  it('the contact invitation mail does too', async () => {
    const tenant = await seedTenant()
    const email = `invited-${unique()}@client.test`
    const created = await call(`/v1/clients/${tenant.client.id}/contacts`, {
      token: tenant.staff.manager.token,
      body: { email, name: 'Invited Contact' },
    })
    expectStatus(created, 201)
    const mail = await latestMail(email)
    expect(mail?.kind).toBe('portal_invitation')
    const token = tokenIn(mail?.text ?? '', 'cml_')

    expect(mail?.text).toContain(`${config().PORTAL_BASE_URL}/sign-in#token=${token}`)
    expect(mail?.text).not.toMatch(/\/sign-in\/cml_/)
    expectStatus(await open(token), 200)
  })

  it('the old GET with the token in the path is gone and does not reveal the link', async () => {
    const tenant = await seedTenant()
    const token = await linkToken(tenant)

    const byPath = await call(`/v1/portal/auth/links/${token}`)
    expectProblem(byPath, 404, 'not_found')
    expect(byPath.text).not.toContain(tenant.contact.email)
    expect(byPath.text).not.toContain(tenant.organization.slug)
    // Still usable: nothing looked it up.
    expectStatus(await open(token), 200)
    expectStatus(await consume(token), 201)
  })

  it('the OpenAPI document has no path parameter that carries a sign-in token', async () => {
    const doc = json<{ paths: Record<string, unknown> }>(await call('/openapi.json'))
    const paths = Object.keys(doc.paths).filter((path) => path.startsWith('/v1/portal/auth'))
    expect(paths).toContain('/v1/portal/auth/links/inspect')
    expect(paths.filter((path) => path.includes('{'))).toEqual([])
  })
})
