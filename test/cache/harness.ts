// A test-only Worker app: the production request context, auth, rate limiting and response
// cache middleware around two tiny routes that read and rename a real organization row, so
// the mechanisms are exercised against the real store and the real database before (and
// independently of) the feature routes that use them.
import { OpenAPIHono } from '@hono/zod-openapi'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { eq } from 'drizzle-orm'
import { expect } from 'vitest'
import { requirePortal, requireStaff } from '../../src/auth/middleware'
import type { PortalPrincipal, StaffPrincipal } from '../../src/auth/principal'
import type { StaffRole } from '../../src/auth/roles'
import { signPortalToken, signStaffToken } from '../../src/auth/tokens'
import { cacheResponse, invalidatesCache } from '../../src/cache/middleware'
import { ResponseCache } from '../../src/cache/response-cache'
import { createKeyValueStore } from '../../src/cache/store'
import { organizations } from '../../src/db/schema'
import { loadConfig } from '../../src/env'
import { createDatabase } from '../../src/platform/database'
import { notFoundHandler, onError } from '../../src/platform/error-handler'
import { notFound } from '../../src/platform/errors'
import type { AppContext, AppEnv } from '../../src/platform/hono'
import { createLogger } from '../../src/platform/logger'
import { RoundTripMeter } from '../../src/platform/metrics'
import { requestContext } from '../../src/platform/request-context'
import { validationHook } from '../../src/platform/validation'
import { rateLimit } from '../../src/rate-limit/middleware'
import { binding } from './helpers'
import { roundTripsIn } from '../support/server-timing'

export type Overrides = Record<string, string>

const isUuid = (value: string) => /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(value)

const dependsOnOrg = (c: AppContext) => [
  'directory',
  `request:${c.req.param('id') ?? ''}`,
]

function buildApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.use(requestContext)

  const readOrg = async (c: AppContext) => {
    const id = c.req.param('id') ?? ''
    if (!isUuid(id)) throw notFound('organization')
    const [row] = await c.var.db
      .select({ id: organizations.id, name: organizations.name })
      .from(organizations)
      .where(eq(organizations.id, id))
    if (!row) throw notFound('organization')
    return c.json({ ...row, query: c.req.query() })
  }

  app.get('/t/orgs/:id', requireStaff(), cacheResponse({ dependsOn: dependsOnOrg }), readOrg)
  app.get(
    '/t/orgs/:id/mine',
    requireStaff(),
    cacheResponse({ dependsOn: dependsOnOrg, perUser: true }),
    readOrg,
  )
  app.get(
    '/t/portal/orgs/:id',
    requirePortal(),
    cacheResponse({ dependsOn: dependsOnOrg }),
    readOrg,
  )
  app.post(
    '/t/orgs/:id/rename',
    requireStaff(),
    invalidatesCache((c) => [`request:${c.req.param('id') ?? ''}`]),
    async (c) => {
      const { name } = await c.req.json<{ name: string }>()
      await c.var.db
        .update(organizations)
        .set({ name })
        .where(eq(organizations.id, c.req.param('id')))
      return c.body(null, 204)
    },
  )
  // Stand-ins for a credential route and an upload intent, limited like the real ones.
  app.post('/t/login', rateLimit('login'), (c) => c.json({ ok: true }))
  app.post('/t/uploads', requireStaff(), rateLimit('uploads'), (c) => c.json({ ok: true }))
  app.get('/t/ping', requireStaff(), (c) => c.json({ ok: true }))

  app.onError(onError)
  app.notFound(notFoundHandler(app.routes))
  return app
}

export const harness = buildApp()

/** The Worker's bindings with some replaced, e.g. the Upstash backend or a tight limit. */
export const bindings = (overrides: Overrides = {}) => ({ ...env, ...overrides })

export const upstashBindings: Overrides = { CACHE_BACKEND: 'upstash' }
export const downBindings = (): Overrides => ({
  CACHE_BACKEND: 'upstash',
  UPSTASH_REDIS_REST_URL: binding('TEST_CLOSED_URL'),
})
export const stalledBindings = (): Overrides => ({
  CACHE_BACKEND: 'upstash',
  UPSTASH_REDIS_REST_URL: binding('TEST_STALLED_URL'),
  CACHE_TIMEOUT_MS: '150',
})

/** Sends one request through `app` (the harness by default) with these bindings. */
export async function send(
  path: string,
  init: RequestInit & { overrides?: Overrides; app?: { fetch: typeof harness.fetch } } = {},
): Promise<Response> {
  const { overrides, app = harness, ...requestInit } = init
  const ctx = createExecutionContext()
  const response = await app.fetch(
    new Request(`http://api.test${path}`, requestInit),
    bindings(overrides),
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return response
}

/** Round trips from `Server-Timing`, e.g. `db;dur=1.2;desc="1"`. */
export function trips(response: Response, kind: 'db' | 'cache'): number {
  const header = response.headers.get('server-timing')
  const count = roundTripsIn(header, kind)
  if (count === undefined) throw new Error(`no ${kind} entry in Server-Timing: ${header}`)
  return count
}

/** Asserts the status, printing the body when it is not the expected one. */
export async function expectStatus(response: Response, status: number): Promise<void> {
  if (response.status === status) return
  const body = await response.clone().text()
  expect(response.status, `expected ${status}, got ${response.status}: ${body}`).toBe(status)
}

const config = () => loadConfig(env)

/** A fresh organization row, so tests never share cache keys or data. */
export async function seedOrganization(name = 'Harness LLP'): Promise<string> {
  const db = createDatabase(config())
  const slug = `harness-${crypto.randomUUID()}`
  const [row] = await db
    .insert(organizations)
    .values({ name, slug })
    .returning({ id: organizations.id })
  if (!row) throw new Error('organization not created')
  return row.id
}

export async function staffToken(
  organizationId: string,
  role: StaffRole = 'member',
  extra: Partial<StaffPrincipal> = {},
): Promise<{ token: string; principal: StaffPrincipal }> {
  const principal: StaffPrincipal = {
    kind: 'staff',
    userId: crypto.randomUUID(),
    organizationId,
    role,
    authVersion: 1,
    ...extra,
  }
  return { token: await signStaffToken(config(), principal), principal }
}

export async function portalToken(
  organizationId: string,
  extra: Partial<PortalPrincipal> = {},
): Promise<{ token: string; principal: PortalPrincipal }> {
  const principal: PortalPrincipal = {
    kind: 'portal',
    contactId: crypto.randomUUID(),
    clientId: crypto.randomUUID(),
    organizationId,
    sessionId: crypto.randomUUID(),
    ...extra,
  }
  return { token: await signPortalToken(config(), principal), principal }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const octet = () => Math.floor(Math.random() * 254) + 1

/** A private IPv4 address, random enough that parallel tests never share a budget. */
export const testAddress = () => `10.${octet()}.${octet()}.${octet()}`

/** The store and response cache a request would get with these bindings. */
export function cacheFor(overrides: Overrides = {}) {
  const settings = loadConfig(bindings(overrides))
  const log = createLogger({ test: 'cache' })
  const defer = (work: Promise<unknown>) => void work.catch(() => undefined)
  const store = createKeyValueStore(settings, new RoundTripMeter(), log, defer)
  const cache = new ResponseCache(store, settings, log, defer)
  return { store, cache, config: settings }
}
