import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { id, timestamps } from './columns'

/** Development outbox: mail a developer can read instead of sending. Refused in production. */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: id(),
    organizationId: uuid('organization_id'),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    kind: text('kind').notNull(),
    createdAt: timestamps.createdAt,
  },
  (table) => [index('email_outbox_to_created_idx').on(table.to, table.createdAt)],
)
