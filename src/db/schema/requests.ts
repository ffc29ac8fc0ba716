import { sql } from 'drizzle-orm'
import {
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { clients } from './clients'
import { at, id, softDelete, timestamps } from './columns'
import { organizations, users } from './organizations'

export const requestStatuses = ['draft', 'sent', 'in_progress', 'completed', 'cancelled'] as const
export const requestStatus = pgEnum('request_status', requestStatuses)

export const priorities = ['low', 'medium', 'high', 'urgent'] as const
export const priority = pgEnum('priority', priorities)

export const itemStatuses = ['open', 'submitted', 'accepted', 'returned'] as const
export const itemStatus = pgEnum('item_status', itemStatuses)

/** A request list (PBC list) sent to one client. */
export const requests = pgTable(
  'requests',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    description: text('description'),
    status: requestStatus('status').notNull().default('draft'),
    priority: priority('priority').notNull().default('medium'),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    dueDate: date('due_date'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    // Incremented by every change: the ETag, and the guard for If-Match.
    revision: integer('revision').notNull().default(1),
    sentAt: at('sent_at'),
    completedAt: at('completed_at'),
    cancelledAt: at('cancelled_at'),
    ...timestamps,
    ...softDelete,
  },
  (table) => [
    index('requests_organization_status_idx').on(table.organizationId, table.status),
    index('requests_organization_client_idx').on(table.organizationId, table.clientId),
    index('requests_organization_assignee_idx').on(table.organizationId, table.assigneeId),
    index('requests_organization_priority_idx').on(table.organizationId, table.priority),
    index('requests_organization_due_idx').on(table.organizationId, table.dueDate, table.id),
    index('requests_organization_created_idx').on(table.organizationId, table.createdAt, table.id),
    index('requests_organization_updated_idx').on(table.organizationId, table.updatedAt, table.id),
    index('requests_title_trgm_idx').using('gin', sql`${table.title} gin_trgm_ops`),
  ],
)

/** One document or answer asked for inside a request. */
export const requestItems = pgTable(
  'request_items',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    reference: text('reference').notNull(),
    section: text('section'),
    title: text('title').notNull(),
    description: text('description'),
    status: itemStatus('status').notNull().default('open'),
    returnReason: text('return_reason'),
    dueDate: date('due_date'),
    priority: priority('priority'),
    position: integer('position').notNull().default(0),
    revision: integer('revision').notNull().default(1),
    ...timestamps,
    ...softDelete,
  },
  (table) => [
    // The reference is the import key: one live item per reference in a request.
    uniqueIndex('request_items_request_reference_key')
      .on(table.requestId, table.reference)
      .where(sql`deleted_at is null`),
    index('request_items_request_position_idx').on(table.requestId, table.position, table.id),
    index('request_items_request_status_idx').on(table.requestId, table.status),
    index('request_items_organization_updated_idx').on(
      table.organizationId,
      table.updatedAt,
      table.id,
    ),
    index('request_items_reference_trgm_idx').using('gin', sql`${table.reference} gin_trgm_ops`),
    index('request_items_title_trgm_idx').using('gin', sql`${table.title} gin_trgm_ops`),
  ],
)

export const actorTypes = ['user', 'contact', 'system'] as const
export const actorType = pgEnum('actor_type', actorTypes)

/** Comments on a request or one of its items, by staff or portal contacts. */
export const comments = pgTable(
  'comments',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    itemId: uuid('item_id').references(() => requestItems.id, { onDelete: 'cascade' }),
    authorType: actorType('author_type').notNull(),
    authorId: uuid('author_id').notNull(),
    body: text('body').notNull(),
    // Internal comments are for staff only and never reach the portal.
    internal: boolean('internal').notNull().default(false),
    ...timestamps,
    ...softDelete,
  },
  (table) => [
    index('comments_request_created_idx').on(table.requestId, table.createdAt, table.id),
    index('comments_item_created_idx').on(table.itemId, table.createdAt),
  ],
)

/** Append-only trail: written in the same batch as the change it describes. */
export const activityEvents = pgTable(
  'activity_events',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    itemId: uuid('item_id').references(() => requestItems.id, { onDelete: 'cascade' }),
    actorType: actorType('actor_type').notNull(),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    createdAt: timestamps.createdAt,
  },
  (table) => [
    index('activity_events_request_created_idx').on(table.requestId, table.createdAt, table.id),
    // One item's history (the trail's `itemId` filter).
    index('activity_events_item_created_idx').on(table.itemId, table.createdAt, table.id),
  ],
)
