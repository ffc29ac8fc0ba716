import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { at, id, softDelete, timestamps } from './columns'
import { organizations } from './organizations'

/** The companies being audited. */
export const clients = pgTable(
  'clients',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    ...timestamps,
    ...softDelete,
  },
  (table) => [index('clients_organization_name_idx').on(table.organizationId, table.name)],
)

/** People at a client who may use the portal. */
export const clientContacts = pgTable(
  'client_contacts',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    name: text('name').notNull(),
    disabledAt: at('disabled_at'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('client_contacts_organization_email_key').on(table.organizationId, table.email),
    index('client_contacts_client_idx').on(table.clientId),
  ],
)

/** Single-use portal sign-in links, stored hashed. */
export const portalSignInLinks = pgTable(
  'portal_sign_in_links',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => clientContacts.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: at('expires_at').notNull(),
    consumedAt: at('consumed_at'),
    createdAt: timestamps.createdAt,
  },
  (table) => [
    uniqueIndex('portal_sign_in_links_token_hash_key').on(table.tokenHash),
    index('portal_sign_in_links_contact_idx').on(table.contactId),
  ],
)

/** Portal sessions, so a disabled contact or a logout ends access before the token expires. */
export const portalSessions = pgTable(
  'portal_sessions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => clientContacts.id, { onDelete: 'cascade' }),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    expiresAt: at('expires_at').notNull(),
    revokedAt: at('revoked_at'),
    createdAt: timestamps.createdAt,
  },
  (table) => [index('portal_sessions_contact_idx').on(table.contactId)],
)
