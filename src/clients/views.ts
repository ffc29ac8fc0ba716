import { z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { clientContacts, clients } from '../db/schema'
import { timestamp } from '../platform/openapi'
import { isoTimestamp } from '../platform/sql-helpers'

export const ClientView = z
  .object({ id: z.uuid(), name: z.string(), createdAt: timestamp(), updatedAt: timestamp() })
  .openapi('Client')

export const ContactView = z
  .object({
    id: z.uuid(),
    clientId: z.uuid(),
    email: z.string(),
    name: z.string(),
    disabled: z.boolean().openapi({ description: 'Disabled contacts cannot use the portal' }),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .openapi('ClientContact')

export const clientColumns = {
  id: clients.id,
  name: clients.name,
  createdAt: clients.createdAt,
  updatedAt: clients.updatedAt,
}

export const contactColumns = {
  id: clientContacts.id,
  clientId: clientContacts.clientId,
  email: clientContacts.email,
  name: clientContacts.name,
  disabledAt: clientContacts.disabledAt,
  createdAt: clientContacts.createdAt,
  updatedAt: clientContacts.updatedAt,
}

export const clientView = (row: {
  id: string
  name: string
  createdAt: Date
  updatedAt: Date
}): z.infer<typeof ClientView> => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
})

export const contactView = (row: {
  id: string
  clientId: string
  email: string
  name: string
  disabledAt: Date | null
  createdAt: Date
  updatedAt: Date
}): z.infer<typeof ContactView> => ({
  id: row.id,
  clientId: row.clientId,
  email: row.email,
  name: row.name,
  disabled: row.disabledAt !== null,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
})

/**
 * The same views built by Postgres, for writes whose response is stored for idempotent
 * replays: the first answer and every replay come from this one expression. Null when no
 * such row exists (the write did not happen).
 */
export const clientBody = (organizationId: string, id: string) => sql`(
  select jsonb_build_object('id', ${clients.id}, 'name', ${clients.name},
    'createdAt', ${isoTimestamp(sql`${clients.createdAt}`)},
    'updatedAt', ${isoTimestamp(sql`${clients.updatedAt}`)})
  from ${clients}
  where ${clients.id} = ${id}::uuid and ${clients.organizationId} = ${organizationId}::uuid)`

export const contactBody = (organizationId: string, id: string) => sql`(
  select jsonb_build_object('id', ${clientContacts.id}, 'clientId', ${clientContacts.clientId},
    'email', ${clientContacts.email}, 'name', ${clientContacts.name},
    'disabled', ${clientContacts.disabledAt} is not null,
    'createdAt', ${isoTimestamp(sql`${clientContacts.createdAt}`)},
    'updatedAt', ${isoTimestamp(sql`${clientContacts.updatedAt}`)})
  from ${clientContacts}
  where ${clientContacts.id} = ${id}::uuid
    and ${clientContacts.organizationId} = ${organizationId}::uuid)`
