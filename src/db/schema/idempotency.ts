import { integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { at, timestamps } from './columns'
import { organizations } from './organizations'

/** Stored responses for Idempotency-Key retries, written in the same batch as the change. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    // The caller: a staff user or a portal contact.
    principalId: uuid('principal_id').notNull(),
    key: text('key').notNull(),
    // Hash of method, route and body: the same key with another body is refused.
    fingerprint: text('fingerprint').notNull(),
    responseStatus: integer('response_status'),
    responseBody: jsonb('response_body'),
    expiresAt: at('expires_at').notNull(),
    createdAt: timestamps.createdAt,
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.principalId, table.key] })],
)
