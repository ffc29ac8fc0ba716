import { sql } from 'drizzle-orm'
import { bigint, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { at, id, timestamps } from './columns'
import { organizations } from './organizations'
import { actorType, requestItems, requests } from './requests'

/** A presigned upload handed out but not yet verified; the cron sweeps stale ones. */
export const uploadIntents = pgTable(
  'upload_intents',
  {
    // The document id the client sees; the version row reuses it once verified.
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    itemId: uuid('item_id')
      .notNull()
      .references(() => requestItems.id, { onDelete: 'cascade' }),
    objectKey: text('object_key').notNull(),
    filename: text('filename').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    checksumSha256: text('checksum_sha256'),
    createdByType: actorType('created_by_type').notNull(),
    createdById: uuid('created_by_id').notNull(),
    expiresAt: at('expires_at').notNull(),
    completedAt: at('completed_at'),
    createdAt: timestamps.createdAt,
  },
  (table) => [
    uniqueIndex('upload_intents_object_key_key').on(table.objectKey),
    index('upload_intents_pending_idx').on(table.expiresAt).where(sql`completed_at is null`),
  ],
)

/** One immutable, verified version of an item's document. */
export const documents = pgTable(
  'documents',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    itemId: uuid('item_id')
      .notNull()
      .references(() => requestItems.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    objectKey: text('object_key').notNull(),
    filename: text('filename').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    checksumSha256: text('checksum_sha256'),
    uploadedByType: actorType('uploaded_by_type').notNull(),
    uploadedById: uuid('uploaded_by_id').notNull(),
    deletedAt: at('deleted_at'),
    deletedById: uuid('deleted_by_id'),
    createdAt: timestamps.createdAt,
  },
  (table) => [
    index('documents_request_idx').on(table.requestId),
    uniqueIndex('documents_item_version_key').on(table.itemId, table.version),
  ],
)
