/// <reference types="vite/client" />
// The authorization matrix: every route the app registers × {no token, expired token, wrong
// audience, the other kind of token, a caller of another organization, a role too low}, each
// refused with the right problem and with nothing written. A route missing from the table
// in test/access/routes/ fails the first test, so no route can be added without its row.
import { SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { roleAtLeast, type StaffRole } from '../../src/auth/roles'
import { signPortalToken, signStaffToken, tokenKinds } from '../../src/auth/tokens'
import { createApp } from '../../src/app'
import type { Method, RouteAccess } from './matrix'
import {
  type Api,
  call,
  config,
  expectProblem,
  seedTenant,
  staffRoleList,
  type Tenant,
  tenantSnapshot,
} from './tenant'

const declared = Object.values(
  import.meta.glob<{ routes: RouteAccess[] }>('./routes/*.ts', { eager: true }),
).flatMap((file) => file.routes)

/** `METHOD /path/{param}` for every route the app serves (middleware entries excluded). */
function registeredRoutes(): string[] {
  const keys = createApp()
    .routes.filter((route) => route.method !== 'ALL')
    .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
  return [...new Set(keys)].sort()
}

describe('the access table', () => {
  it('declares every registered route, once', () => {
    const keys: string[] = declared.map((entry) => entry.route)
    const missing = registeredRoutes().filter((route) => !keys.includes(route))
    expect(missing, 'add these to a file in test/access/routes/').toEqual([])
    const duplicates = keys.filter((key, index) => keys.indexOf(key) !== index)
    expect(duplicates).toEqual([])
  })

  it('declares no route the app does not serve', () => {
    const registered = registeredRoutes()
    const stale = declared.map((entry) => entry.route).filter((key) => !registered.includes(key))
    expect(stale).toEqual([])
  })
})

const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000)

/** A correctly signed token with everything right except its audience. */
async function wrongAudience(kind: 'staff' | 'portal', subject: string, organizationId: string) {
  const settings = config()
  const other = kind === 'staff' ? tokenKinds.portal.audience : tokenKinds.staff.audience
  return new SignJWT({ org: organizationId, role: 'owner', ver: 1, client: subject, sid: subject })
    .setProtectedHeader({ alg: 'HS256', typ: tokenKinds[kind].typ })
    .setIssuer(settings.JWT_ISSUER)
    .setAudience(other)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(settings.JWT_SECRET))
}

const ownerPrincipal = (tenant: Tenant) => ({
  kind: 'staff' as const,
  userId: tenant.staff.owner.id,
  organizationId: tenant.organization.id,
  role: 'owner' as const,
  authVersion: 1,
})

const portalPrincipal = (tenant: Tenant) => ({
  kind: 'portal' as const,
  contactId: tenant.contact.id,
  clientId: tenant.client.id,
  organizationId: tenant.organization.id,
  sessionId: tenant.portal.sessionId,
})

interface Prepared {
  target: Tenant
  other: Tenant
  path: (params?: Record<string, string>) => string
  params: Record<string, string>
  body: unknown
}

function send(entry: RouteAccess, prepared: Prepared, token?: string, params = prepared.params) {
  const [method] = entry.route.split(' ') as [Method]
  return call(prepared.path(params), {
    method,
    ...(token === undefined ? {} : { token }),
    ...(prepared.body === undefined ? {} : { body: prepared.body }),
  })
}

/** Runs `attempt` and proves the target organization is byte-for-byte unchanged after it. */
async function unchanged(target: Tenant, attempt: () => Promise<Api>) {
  const before = await tenantSnapshot(target.organization.id)
  const response = await attempt()
  expect(await tenantSnapshot(target.organization.id), `wrote something: ${response.text}`).toEqual(
    before,
  )
  return response
}

function expectUnauthorized(response: Api) {
  expectProblem(response, 401, 'unauthorized')
  expect(response.headers.get('www-authenticate'), response.text).toMatch(/^Bearer/)
}

/** The problem body without what differs per request. */
const stable = (response: Api) => {
  const { requestId: _id, instance: _instance, ...rest } = response.body as Record<string, unknown>
  return rest
}

/** The target's identifiers that must never show up in another organization's answer. */
const secretsOf = (tenant: Tenant) => [
  tenant.organization.id,
  tenant.client.id,
  tenant.contact.id,
  ...Object.values(tenant.staff).map((user) => user.id),
]

const protectedRoutes = declared.filter((entry) => !('public' in entry.access))
const publicRoutes = declared.filter((entry) => 'public' in entry.access)

describe.each(protectedRoutes)('$route', (entry) => {
  let prepared: Prepared
  const template = entry.route.split(' ')[1] ?? ''
  const hasParams = template.includes('{')
  const crossTenant = entry.crossTenant ?? (hasParams ? 'not_found' : 'isolated')
  const portal = 'portal' in entry.access
  const minimum: StaffRole = 'staff' in entry.access ? entry.access.staff : 'member'

  beforeAll(async () => {
    const [target, other] = await Promise.all([seedTenant(), seedTenant()])
    const params = (await entry.params?.(target)) ?? {}
    const query = entry.query === undefined ? '' : `?${entry.query}`
    prepared = {
      target,
      other,
      params,
      body: entry.body?.(target),
      path: (values = params) =>
        template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'missing') + query,
    }
  })

  it('refuses a request without a token', async () => {
    expectUnauthorized(await unchanged(prepared.target, () => send(entry, prepared)))
  })

  it('refuses an expired token', async () => {
    const { target } = prepared
    const token = portal
      ? await signPortalToken(config(), portalPrincipal(target), { now: ago(24), ttlSeconds: 60 })
      : await signStaffToken(config(), ownerPrincipal(target), { now: ago(2), ttlSeconds: 60 })
    expectUnauthorized(await unchanged(target, () => send(entry, prepared, token)))
  })

  it('refuses a token for another audience', async () => {
    const { target } = prepared
    const subject = portal ? target.contact.id : target.staff.owner.id
    const token = await wrongAudience(portal ? 'portal' : 'staff', subject, target.organization.id)
    expectUnauthorized(await unchanged(target, () => send(entry, prepared, token)))
  })

  it(portal ? 'refuses a staff token' : 'refuses a portal token', async () => {
    const { target } = prepared
    const token = portal ? target.staff.owner.token : target.portal.token
    expectUnauthorized(await unchanged(target, () => send(entry, prepared, token)))
  })

  const crossTitle = crossTenant === 'not_found' ? '404' : 'nothing of the target'
  it(`gives a caller of another organization ${crossTitle}`, async () => {
    const { target, other } = prepared
    const token = portal ? other.portal.token : other.staff.owner.token
    const response = await unchanged(target, () => send(entry, prepared, token))

    if (crossTenant === 'not_found') {
      expectProblem(response, 404, 'not_found')
      const missingIds = Object.fromEntries(
        Object.keys(prepared.params).map((name) => [name, crypto.randomUUID()]),
      )
      const missing = await send(entry, prepared, token, missingIds)
      expectProblem(missing, 404, 'not_found')
      expect(stable(response)).toEqual(stable(missing))
    } else {
      expect(response.status, response.text).toBeLessThan(500)
      for (const secret of secretsOf(target)) expect(response.text).not.toContain(secret)
    }
  })

  const below = staffRoleList.filter((role) => !roleAtLeast(role, minimum))
  it.runIf(!portal && below.length > 0)(`refuses roles below ${minimum}`, async () => {
    const { target } = prepared
    for (const role of below) {
      const token = target.staff[role].token
      const response = await unchanged(target, () => send(entry, prepared, token))
      expectProblem(response, 403, 'forbidden')
    }
  })
})

describe.each(publicRoutes)('$route (public)', (entry) => {
  it('asks for no bearer token, and never answers with a server error', async () => {
    const target = await seedTenant()
    const [method, template = ''] = entry.route.split(' ') as [Method, string]
    const params = (await entry.params?.(target)) ?? {}
    const path = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => params[name] ?? '')
    const body = entry.body?.(target)
    const response = await call(path + (entry.query === undefined ? '' : `?${entry.query}`), {
      method,
      ...(body === undefined ? {} : { body }),
    })
    // A 401 here may only be about a credential in the body (a refresh or link token).
    expect(response.headers.get('www-authenticate'), response.text).toBeNull()
    expect(response.status, response.text).not.toBe(403)
    expect(response.status, response.text).toBeLessThan(500)
  })
})
