import { z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { documents } from '../db/schema'
import { timestamp, uuidParam } from '../platform/openapi'
import { isoTimestamp } from '../platform/sql-helpers'

/** Where a document version's bytes live; the client's filename never enters the key. */
export const objectKey = (ids: {
  organizationId: string
  requestId: string
  itemId: string
  documentId: string
}) => `${ids.organizationId}/${ids.requestId}/${ids.itemId}/${ids.documentId}`

/** One immutable, verified version of an item's document, as clients see it. */
export const DocumentSchema = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    itemId: z.uuid(),
    version: z.number().int().min(1),
    filename: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    checksumSha256: z.string().nullable(),
    uploadedBy: z.object({ type: z.enum(['user', 'contact', 'system']), id: z.uuid() }),
    createdAt: timestamp(),
    deletedAt: timestamp().nullable(),
  })
  .openapi('Document')

export type DocumentView = z.infer<typeof DocumentSchema>

/** A document as raw SQL returns it: bigint as text, timestamps already ISO 8601. */
export type DocumentRow = {
  id: string
  request_id: string
  item_id: string
  version: number
  filename: string
  content_type: string
  size_bytes: string | number
  checksum_sha256: string | null
  uploaded_by_type: 'user' | 'contact' | 'system'
  uploaded_by_id: string
  created_at: string
  deleted_at: string | null
}

/** The `documents` columns of a `DocumentRow`, for a raw select list. */
export const documentColumns = sql`${documents.id} as id, ${documents.requestId} as request_id,
  ${documents.itemId} as item_id, ${documents.version} as version,
  ${documents.filename} as filename, ${documents.contentType} as content_type,
  ${documents.sizeBytes} as size_bytes, ${documents.checksumSha256} as checksum_sha256,
  ${documents.uploadedByType} as uploaded_by_type, ${documents.uploadedById} as uploaded_by_id,
  ${isoTimestamp(sql`${documents.createdAt}`)} as created_at,
  ${isoTimestamp(sql`${documents.deletedAt}`)} as deleted_at`

export function documentView(row: DocumentRow): DocumentView {
  return {
    id: row.id,
    requestId: row.request_id,
    itemId: row.item_id,
    version: Number(row.version),
    filename: row.filename,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    checksumSha256: row.checksum_sha256,
    uploadedBy: { type: row.uploaded_by_type, id: row.uploaded_by_id },
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  }
}

export const ItemParams = z.object({
  requestId: uuidParam('requestId'),
  itemId: uuidParam('itemId'),
})

export const UploadParams = ItemParams.extend({ documentId: uuidParam('documentId') })

export const DocumentParams = z.object({ documentId: uuidParam('documentId') })
