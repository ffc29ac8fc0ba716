import { z } from '@hono/zod-openapi'
import { clientContacts, clients } from '../db/schema'
import { timestamp } from '../platform/openapi'

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
