// U+0000 cannot be stored in Postgres text. Every text input of the accounts, staff, client
// and portal sign-in routes refuses it as a 400 that names the field, before any query and
// without writing anything.
import { describe, expect, it } from 'vitest'
import {
  call,
  expectProblem,
  password,
  roundTrips,
  seedTenant,
  type Tenant,
  tenantSnapshot,
  unique,
} from '../access/tenant'

const nul = '\u0000'

interface Case {
  name: string
  method?: 'POST' | 'PATCH'
  path: (t: Tenant) => string
  token?: (t: Tenant) => string
  /** A valid body with `poison` placed in the field under test. */
  body: (t: Tenant, poison: (value: string) => string) => unknown
  field: string
}

const tag = () => unique()
const clean = (value: string) => value

const signup = (field: string, p: (value: string) => string) => {
  const id = tag()
  return {
    organization: {
      name: field === 'organization.name' ? p('Firm') : 'Firm',
      slug: field === 'organization.slug' ? p(`nul-${id}`) : `nul-${id}`,
    },
    owner: {
      name: field === 'owner.name' ? p('Owner') : 'Owner',
      email: field === 'owner.email' ? p(`owner-${id}@firm.test`) : `owner-${id}@firm.test`,
      password: field === 'owner.password' ? p(password) : password,
    },
  }
}

const signupCases: Case[] = [
  'organization.name',
  'organization.slug',
  'owner.name',
  'owner.email',
  'owner.password',
].map((field) => ({
  name: `sign-up ${field}`,
  path: () => '/v1/auth/signup',
  body: (_t, p) => signup(field, p),
  field,
}))

const manager = (t: Tenant) => t.staff.manager.token
const contactPath = (t: Tenant) => `/v1/clients/${t.client.id}/contacts/${t.contact.id}`

const cases: Case[] = [
  ...signupCases,
  ...['organization', 'email', 'password'].map((field) => ({
    name: `login ${field}`,
    path: () => '/v1/auth/login',
    body: (t: Tenant, p: (value: string) => string) => {
      const body: Record<string, string> = {
        organization: t.organization.slug,
        email: t.staff.member.email,
        password,
      }
      body[field] = p(body[field] ?? '')
      return body
    },
    field,
  })),
  ...['email', 'name'].map((field) => ({
    name: `invitation ${field}`,
    path: () => '/v1/invitations',
    token: manager,
    body: (_t: Tenant, p: (value: string) => string) => ({
      email: field === 'email' ? p(`new-${tag()}@firm.test`) : `new-${tag()}@firm.test`,
      name: field === 'name' ? p('New Colleague') : 'New Colleague',
      role: 'member',
    }),
    field,
  })),
  ...['password', 'name'].map((field) => ({
    name: `invitation acceptance ${field}`,
    path: () => '/v1/invitations/accept',
    body: (_t: Tenant, p: (value: string) => string) => ({
      token: `cmi_${'A'.repeat(43)}`,
      password: field === 'password' ? p(password) : password,
      name: field === 'name' ? p('Joiner') : 'Joiner',
    }),
    field,
  })),
  {
    name: 'client name',
    path: () => '/v1/clients',
    token: manager,
    body: (_t, p) => ({ name: p('Northwind') }),
    field: 'name',
  },
  {
    name: 'client rename',
    method: 'PATCH',
    path: (t) => `/v1/clients/${t.client.id}`,
    token: manager,
    body: (_t, p) => ({ name: p('Northwind') }),
    field: 'name',
  },
  ...['email', 'name'].map((field) => ({
    name: `contact ${field}`,
    path: (t: Tenant) => `/v1/clients/${t.client.id}/contacts`,
    token: manager,
    body: (_t: Tenant, p: (value: string) => string) => ({
      email: field === 'email' ? p(`pat-${tag()}@client.test`) : `pat-${tag()}@client.test`,
      name: field === 'name' ? p('Pat') : 'Pat',
    }),
    field,
  })),
  ...['email', 'name'].map((field) => ({
    name: `contact change ${field}`,
    method: 'PATCH' as const,
    path: contactPath,
    token: manager,
    body: (_t: Tenant, p: (value: string) => string) =>
      field === 'email' ? { email: p(`pat-${tag()}@client.test`) } : { name: p('Pat') },
    field,
  })),
  ...['organization', 'email'].map((field) => ({
    name: `portal link ${field}`,
    path: () => '/v1/portal/auth/links',
    body: (t: Tenant, p: (value: string) => string) => ({
      organization: field === 'organization' ? p(t.organization.slug) : t.organization.slug,
      email: field === 'email' ? p(t.contact.email) : t.contact.email,
    }),
    field,
  })),
]

// In the middle of the value, where trimming cannot remove it.
const poison = (value: string) => `${value.slice(0, 2)}${nul}${value.slice(2)}`

describe('NUL characters in text inputs', () => {
  it.each(cases)('$name: 400 naming body.$field, no query, nothing written', async (test) => {
    const tenant = await seedTenant()
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await call(test.path(tenant), {
      method: test.method ?? 'POST',
      ...(test.token ? { token: test.token(tenant) } : {}),
      body: test.body(tenant, poison),
    })

    expectProblem(response, 400, 'validation_failed')
    const errors = (response.body as { errors?: { path: string; message: string }[] }).errors ?? []
    const onField = errors.filter((error) => error.path === `body.${test.field}`)
    expect(onField.map((error) => error.message), response.text).toContainEqual(
      expect.stringContaining('NUL'),
    )
    expect(roundTrips(response)).toBe(0)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it.each(cases)('$name: the same body without the NUL is not refused as invalid', async (test) => {
    const tenant = await seedTenant()
    const response = await call(test.path(tenant), {
      method: test.method ?? 'POST',
      ...(test.token ? { token: test.token(tenant) } : {}),
      body: test.body(tenant, clean),
    })
    // A control: the refusal above came from the NUL, not from the rest of the body.
    expect(response.status, `${response.status} ${response.text}`).not.toBe(400)
  })
})
