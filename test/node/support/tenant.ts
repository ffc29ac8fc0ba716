// A fresh organization per test, written straight into the suite's database from Node:
// staff of each role, a client with a portal contact and session, a sent request with items.
import { eq, sql } from 'drizzle-orm'
import { signPortalToken, signStaffToken } from '../../../src/auth/tokens.ts'
import type { StaffRole } from '../../../src/auth/roles.ts'
import * as schema from '../../../src/db/schema/index.ts'
import type { Config } from '../../../src/env.ts'
import { createDatabase, type Database } from '../../../src/platform/database.ts'

export interface Tenant {
  organizationId: string
  requestId: string
  itemIds: string[]
  staff: Record<StaffRole, { id: string; token: string }>
  contact: { id: string; clientId: string; sessionId: string; token: string }
}

let counter = 0
const unique = () => `${Date.now().toString(36)}-${process.pid}-${(counter += 1)}`

export function testDatabase(config: Config): Database {
  return createDatabase(config)
}

export async function seedTenant(config: Config, items = 2): Promise<Tenant> {
  const db = testDatabase(config)
  const tag = unique()

  const [organization] = await db
    .insert(schema.organizations)
    .values({ name: `Firm ${tag}`, slug: `firm-${tag}` })
    .returning({ id: schema.organizations.id })
  if (!organization) throw new Error('organization not created')
  const organizationId = organization.id

  const roles: StaffRole[] = ['owner', 'admin', 'manager', 'member']
  const people = await db
    .insert(schema.users)
    .values(
      roles.map((role) => ({
        organizationId,
        role,
        name: role,
        email: `${role}-${tag}@firm.test`,
      })),
    )
    .returning({ id: schema.users.id, role: schema.users.role })

  const [client] = await db
    .insert(schema.clients)
    .values({ organizationId, name: `Client ${tag}` })
    .returning({ id: schema.clients.id })
  if (!client) throw new Error('client not created')

  const [person] = await db
    .insert(schema.clientContacts)
    .values({
      organizationId,
      clientId: client.id,
      name: 'Contact',
      email: `contact-${tag}@client.test`,
    })
    .returning({ id: schema.clientContacts.id })
  if (!person) throw new Error('contact not created')

  const [session] = await db
    .insert(schema.portalSessions)
    .values({
      organizationId,
      contactId: person.id,
      clientId: client.id,
      expiresAt: sql`now() + interval '1 day'`,
    })
    .returning({ id: schema.portalSessions.id })
  if (!session) throw new Error('portal session not created')

  const [request] = await db
    .insert(schema.requests)
    .values({ organizationId, clientId: client.id, title: `Year-end ${tag}`, status: 'sent' })
    .returning({ id: schema.requests.id })
  if (!request) throw new Error('request not created')

  const itemRows = await db
    .insert(schema.requestItems)
    .values(
      Array.from({ length: items }, (_, index) => ({
        organizationId,
        requestId: request.id,
        reference: `PBC-${index + 1}`,
        title: `Evidence ${index + 1}`,
        position: index,
      })),
    )
    .returning({ id: schema.requestItems.id })

  const staff = {} as Tenant['staff']
  for (const user of people) {
    const token = await signStaffToken(config, {
      kind: 'staff',
      userId: user.id,
      organizationId,
      role: user.role,
      authVersion: 1,
    })
    staff[user.role] = { id: user.id, token }
  }
  const contactToken = await signPortalToken(config, {
    kind: 'portal',
    contactId: person.id,
    clientId: client.id,
    organizationId,
    sessionId: session.id,
  })

  return {
    organizationId,
    requestId: request.id,
    itemIds: itemRows.map((row) => row.id),
    staff,
    contact: { id: person.id, clientId: client.id, sessionId: session.id, token: contactToken },
  }
}

/** What the database holds for an item: versions, intents and activity, for "nothing recorded". */
export async function itemRecord(config: Config, itemId: string) {
  const db = testDatabase(config)
  const [versions, intents, events, items] = await db.batch([
    db
      .select({ id: schema.documents.id })
      .from(schema.documents)
      .where(eq(schema.documents.itemId, itemId)),
    db
      .select({ id: schema.uploadIntents.id, completedAt: schema.uploadIntents.completedAt })
      .from(schema.uploadIntents)
      .where(eq(schema.uploadIntents.itemId, itemId)),
    db
      .select({ action: schema.activityEvents.action, actorId: schema.activityEvents.actorId })
      .from(schema.activityEvents)
      .where(eq(schema.activityEvents.itemId, itemId)),
    db
      .select({ status: schema.requestItems.status })
      .from(schema.requestItems)
      .where(eq(schema.requestItems.id, itemId)),
  ])
  return {
    versions: versions.length,
    completedIntents: intents.filter((intent) => intent.completedAt !== null).length,
    // Sorted: events of one batch share a timestamp, so their order is not meaningful.
    events: events.map((event) => event.action).sort(),
    status: items[0]?.status,
  }
}

/** Puts an item in a state the test needs (a review outcome, say) without its own route. */
export async function setItemStatus(
  config: Config,
  itemId: string,
  status: (typeof schema.itemStatuses)[number],
) {
  await testDatabase(config)
    .update(schema.requestItems)
    .set({ status, returnReason: status === 'returned' ? 'Wrong year' : null })
    .where(eq(schema.requestItems.id, itemId))
}

export async function setRequestStatus(
  config: Config,
  requestId: string,
  status: (typeof schema.requestStatuses)[number],
) {
  await testDatabase(config)
    .update(schema.requests)
    .set({ status })
    .where(eq(schema.requests.id, requestId))
}

export async function requestStatus(config: Config, requestId: string) {
  const [row] = await testDatabase(config)
    .select({ status: schema.requests.status })
    .from(schema.requests)
    .where(eq(schema.requests.id, requestId))
  return row?.status
}
