import { z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import { activityEvents, documents, requestItems, requests } from '../db/schema'
import { notFound } from '../platform/errors'
import { timestamp } from '../platform/openapi'
import type { Services } from '../platform/services'
import { type DocumentActor, explainMissing } from './access'
import { contentDisposition } from './content-disposition'
import { DocumentSchema, type DocumentRow, documentColumns, documentView } from './model'
import { presignDownload } from './signer'
import { gate, type ItemTarget, visibleItem } from './uploads'

export const VersionListSchema = z
  .object({ data: z.array(DocumentSchema).openapi({ description: 'Newest version first' }) })
  .openapi('DocumentVersions')

export const DownloadSchema = z
  .object({
    url: z.url().openapi({ description: 'Presigned GET; the browser fetches the bytes here' }),
    expiresAt: timestamp(),
  })
  .openapi('DocumentDownload')

/** The document (any state) in `documents`, joined to its visible request and item. */
function visibleDocument(actor: DocumentActor, documentId: string): SQL {
  const { organizationId } = actor.caller
  return sql`${documents.id} = ${documentId}
    and ${documents.organizationId} = ${organizationId}
    and ${requests.id} = ${documents.requestId}
    and ${requestItems.id} = ${documents.itemId}
    and ${requests.organizationId} = ${organizationId}
    and ${requests.deletedAt} is null
    and ${requestItems.deletedAt} is null
    and ${actor.sees}`
}

type ListRow = Partial<DocumentRow> & { standing: unknown; listed_item: string | null }

/** Every version of the item; an item the actor cannot see is a 404, not an empty list. */
export async function listVersions(
  services: Pick<Services, 'db'>,
  actor: DocumentActor,
  target: ItemTarget,
  includeDeleted: boolean,
) {
  const result = await services.db.execute<ListRow>(sql`
    select g.standing, x.* from ${gate(actor)}
    left join lateral (
      select ${requestItems.id} as listed_item, ${documentColumns}
      from ${requestItems}
      join ${requests} on ${requests.id} = ${requestItems.requestId}
      left join ${documents} on ${documents.itemId} = ${requestItems.id}
        and (${documents.deletedAt} is null or ${includeDeleted}::boolean)
      where ${visibleItem(actor, target)}
      order by ${documents.version} desc
    ) x on g.allowed
  `)
  const first = result.rows[0]
  if (!first?.listed_item) explainMissing(actor, first?.standing, notFound('item'))

  const data = result.rows
    .filter((row): row is ListRow & DocumentRow => typeof row.id === 'string')
    .map(documentView)
  return { data }
}

type DownloadRow = {
  standing: unknown
  object_key: string | null
  filename: string
  content_type: string
}

/**
 * Records the download and returns a short-lived GET in one statement: the activity row is
 * written by the same query that authorizes the read, so no URL leaves unrecorded.
 */
export async function downloadDocument(
  services: Pick<Services, 'config' | 'db'>,
  actor: DocumentActor,
  documentId: string,
) {
  const { config, db } = services
  const { caller } = actor
  const result = await db.execute<DownloadRow>(sql`
    with target as (
      select ${documents.id} as id, ${documents.requestId} as request_id,
        ${documents.itemId} as item_id, ${documents.version} as version,
        ${documents.objectKey} as object_key, ${documents.filename} as filename,
        ${documents.contentType} as content_type
      from ${documents}, ${requests}, ${requestItems}, ${gate(actor)}
      where g.allowed and ${visibleDocument(actor, documentId)} and ${documents.deletedAt} is null
    ), recorded as (
      insert into ${activityEvents} (
        organization_id, request_id, item_id, actor_type, actor_id, action, after
      )
      select ${caller.organizationId}::uuid, request_id, item_id, ${caller.type}::actor_type,
        ${caller.id}::uuid, 'document.downloaded',
        jsonb_build_object('documentId', id, 'version', version)
      from target
      returning id
    )
    select g.standing, t.object_key, t.filename, t.content_type
    from ${gate(actor)} left join target t on exists (select 1 from recorded)
  `)
  const row = result.rows[0]
  if (!row?.object_key) explainMissing(actor, row?.standing, notFound('document'))

  const terms = {
    contentDisposition: contentDisposition(row.filename),
    contentType: row.content_type,
  }
  const signed = await presignDownload(config, row.object_key, terms)
  return { url: signed.url, expiresAt: signed.expiresAt.toISOString() }
}

/**
 * Soft delete: the version stays in the table (and its bytes in the store) for the audit
 * trail, hidden from lists and downloads. Deleting twice changes nothing the second time.
 */
export async function deleteDocument(
  services: Pick<Services, 'db'>,
  actor: DocumentActor,
  documentId: string,
) {
  const { caller } = actor
  const result = await services.db.execute<{ standing: unknown; found: string | null }>(sql`
    with target as (
      select ${documents.id} as id, ${documents.deletedAt} is not null as was_deleted
      from ${documents}, ${requests}, ${requestItems}, ${gate(actor)}
      where g.allowed and ${visibleDocument(actor, documentId)}
    ), removed as (
      update ${documents} set deleted_at = now(), deleted_by_id = ${caller.id}::uuid
      from target
      where ${documents.id} = target.id and not target.was_deleted
      returning ${documents.id} as id, ${documents.requestId} as request_id,
        ${documents.itemId} as item_id, ${documents.version} as version,
        ${documents.filename} as filename
    ), recorded as (
      insert into ${activityEvents} (
        organization_id, request_id, item_id, actor_type, actor_id, action, before
      )
      select ${caller.organizationId}::uuid, request_id, item_id, ${caller.type}::actor_type,
        ${caller.id}::uuid, 'document.deleted',
        jsonb_build_object('documentId', id, 'version', version, 'filename', filename)
      from removed
      returning id
    )
    select g.standing, t.id as found from ${gate(actor)} left join target t on true
  `)
  const row = result.rows[0]
  if (!row?.found) explainMissing(actor, row?.standing, notFound('document'))
}
