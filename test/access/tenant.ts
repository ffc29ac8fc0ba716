// Harness for the tenancy, account and session tests: requests through the real Worker
// (SELF.fetch → the production app → the Neon HTTP driver → the suite's database), a fresh
// organization per test, and direct database access to seed and to prove "nothing written".
import { env, SELF } from 'cloudflare:test'
import { eq, sql } from 'drizzle-orm'
import { expect } from 'vitest'
import { hashPassword } from '../../src/auth/passwords'
import type { StaffRole } from '../../src/auth/roles'
import { signPortalToken, signStaffToken } from '../../src/auth/tokens'
import * as schema from '../../src/db/schema'
import { loadConfig } from '../../src/env'
import { createDatabase } from '../../src/platform/database'
import { roundTripsIn } from '../support/server-timing'

export const origin = 'http://api.test'
export const config = () => loadConfig(env)
export const database = () => createDatabase(config())

export const staffRoleList: StaffRole[] = ['owner', 'admin', 'manager', 'member']

/** Every test password; hashed once per file, since each hash costs 100,000 iterations. */
export const password = 'correct horse battery staple'
let sharedHash: Promise<string> | undefined
const passwordHash = () => (sharedHash ??= hashPassword(password))

let counter = 0
export const unique = () =>
  `${Date.now().toString(36)}${crypto.randomUUID().slice(0, 8)}${(counter += 1)}`

export interface Api {
  status: number
  headers: Headers
  body: unknown
  text: string
}

interface Call {
  method?: string
  token?: string
  body?: unknown
  headers?: Record<string, string>
}

export async function call(path: string, options: Call = {}): Promise<Api> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await SELF.fetch(`${origin}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {
    // Not JSON: keep the text, the assertion will print it.
  }
  return { status: response.status, headers: response.headers, body, text }
}

/** Asserts the status and prints the whole response when it is not the expected one. */
export function expectStatus(response: Api, status: number) {
  expect(response.status, `${response.status} ${response.text}`).toBe(status)
}

export function expectProblem(response: Api, status: number, code: string) {
  expectStatus(response, status)
  expect(response.headers.get('content-type'), response.text).toBe('application/problem+json')
  expect((response.body as { code?: string }).code, response.text).toBe(code)
}

/** Database round trips the request made, from its Server-Timing header. */
export function roundTrips(response: Api): number {
  const header = response.headers.get('server-timing')
  const count = roundTripsIn(header, 'db')
  expect(count, `no db entry in Server-Timing: ${header}`).toBeDefined()
  return Number(count)
}

export const json = <T>(response: Api) => response.body as T

export interface SeededStaff {
  id: string
  email: string
  token: string
}

export interface Tenant {
  organization: { id: string; name: string; slug: string }
  staff: Record<StaffRole, SeededStaff>
  client: { id: string; name: string }
  contact: { id: string; email: string; name: string }
  portal: { sessionId: string; token: string }
}

export const staffToken = (
  tenant: Pick<Tenant, 'organization'>,
  user: { id: string },
  role: StaffRole,
  authVersion = 1,
) =>
  signStaffToken(config(), {
    kind: 'staff',
    userId: user.id,
    organizationId: tenant.organization.id,
    role,
    authVersion,
  })

/**
 * A fresh organization: one staff user per role (all with `password`), a client, a portal
 * contact with a live session. Written directly, so tests start from a known state.
 */
export async function seedTenant(): Promise<Tenant> {
  const db = database()
  const tag = unique()
  const organizationId = crypto.randomUUID()
  const clientId = crypto.randomUUID()
  const contactId = crypto.randomUUID()
  const sessionId = crypto.randomUUID()
  const hash = await passwordHash()
  const people = staffRoleList.map((role) => ({
    id: crypto.randomUUID(),
    organizationId,
    role,
    name: `${role} ${tag}`,
    email: `${role}-${tag}@firm.test`,
    passwordHash: hash,
  }))
  const contact = { id: contactId, email: `contact-${tag}@client.test`, name: `Contact ${tag}` }
  const organization = { id: organizationId, name: `Firm ${tag}`, slug: `firm-${tag}` }

  await db.batch([
    db.insert(schema.organizations).values(organization),
    db.insert(schema.users).values(people),
    db.insert(schema.clients).values({ id: clientId, organizationId, name: `Client ${tag}` }),
    db.insert(schema.clientContacts).values({ ...contact, organizationId, clientId }),
    db.insert(schema.portalSessions).values({
      id: sessionId,
      organizationId,
      contactId,
      clientId,
      expiresAt: sql`now() + interval '1 hour'`,
    }),
  ])

  const staff = {} as Record<StaffRole, SeededStaff>
  for (const person of people) {
    const token = await staffToken({ organization }, person, person.role)
    staff[person.role] = { id: person.id, email: person.email, token }
  }
  const portalToken = await signPortalToken(config(), {
    kind: 'portal',
    contactId,
    clientId,
    organizationId,
    sessionId,
  })
  return {
    organization,
    staff,
    client: { id: clientId, name: `Client ${tag}` },
    contact,
    portal: { sessionId, token: portalToken },
  }
}

const tenantTables = [
  'users',
  'invitations',
  'refresh_tokens',
  'clients',
  'client_contacts',
  'portal_sign_in_links',
  'portal_sessions',
  'requests',
  'request_items',
  'comments',
  'activity_events',
  'upload_intents',
  'documents',
  'idempotency_keys',
  'email_outbox',
] as const

/**
 * Everything an organization owns, as one digest per table (plus its own row), so a test can
 * prove a refused request wrote nothing at all, whatever table it might have touched.
 */
export async function tenantSnapshot(organizationId: string): Promise<Record<string, string>> {
  const db = database()
  const digest = (table: string) => sql`
    select ${table} as "table",
      coalesce(md5(string_agg(t::text, '|' order by t::text)), 'empty') as digest
    from ${sql.identifier(table)} t where t.organization_id = ${organizationId}::uuid`
  const own = sql`
    select 'organizations' as "table", md5(t::text) as digest
    from organizations t where t.id = ${organizationId}::uuid`
  const parts = [own, ...tenantTables.map(digest)]
  const result = await db.execute(sql.join(parts, sql` union all `))
  const rows = (result as unknown as { rows: { table: string; digest: string }[] }).rows
  return Object.fromEntries(rows.map((row) => [row.table, row.digest]))
}

/** The newest outbox mail to `to`, read through the dev route like a developer would. */
export async function latestMail(to: string) {
  const response = await call(`/v1/dev/outbox?to=${encodeURIComponent(to)}&limit=1`)
  expectStatus(response, 200)
  return json<{ data: { subject: string; text: string; kind: string }[] }>(response).data[0]
}

export const tokenIn = (text: string, prefix: string) => {
  const match = text.match(new RegExp(`${prefix}[A-Za-z0-9_-]{43}`))
  expect(match, text).toBeTruthy()
  return match?.[0] ?? ''
}

export async function storedUser(id: string) {
  const [row] = await database()
    .select({
      role: schema.users.role,
      authVersion: schema.users.authVersion,
      removedAt: schema.users.removedAt,
    })
    .from(schema.users)
    .where(eq(schema.users.id, id))
  return row
}
