import { z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import { activityEvents, documents, requestItems, requests, uploadIntents } from '../db/schema'
import { ApiError, notFound } from '../platform/errors'
import type { AppContext } from '../platform/hono'
import {
  executeWrite,
  type IdempotencyKey,
  idempotencyKeyOf,
  storedResponseBody,
} from '../platform/idempotency'
import { timestamp } from '../platform/openapi'
import type { Services } from '../platform/services'
import { eventExists } from '../requests/queries'
import { noNul, withoutNul } from '../requests/schemas'
import { itemSubmittedStatements, lockRequest } from '../requests/transitions'
import { type DocumentActor, explainMissing, uploadOpen } from './access'
import { contentDisposition, sanitizeFilename } from './content-disposition'
import { type DocumentRow, documentColumns, documentView, objectKey } from './model'
import { presignUpload } from './signer'

export const UploadRequestSchema = z
  .strictObject({
    filename: z
      .string()
      .min(1)
      .max(255)
      .refine(noNul, withoutNul)
      .openapi({ example: 'Bank confirmation 2026.pdf' }),
    contentType: z
      .string()
      .max(127)
      .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/, {
        message: 'expected a media type such as application/pdf, without parameters',
      })
      .openapi({ example: 'application/pdf' }),
    sizeBytes: z.number().int().min(1).openapi({ example: 482113 }),
    checksumSha256: z
      .string()
      .regex(/^[0-9A-Fa-f]{64}$/, { message: 'expected 64 hexadecimal characters' })
      .optional()
      .openapi({ description: 'SHA-256 of the bytes, hex; checked at completion' }),
  })
  .openapi('UploadRequest')

export const UploadIntentSchema = z
  .object({
    documentId: z.uuid(),
    upload: z.object({
      method: z.literal('PUT'),
      url: z.url().openapi({ description: 'Presigned; send the bytes here, not to the API' }),
      headers: z.record(z.string(), z.string()).openapi({
        description: 'Send exactly these headers: each is signed, a change is refused',
      }),
      expiresAt: timestamp(),
    }),
    completePath: z.string().openapi({ description: 'POST here once the PUT has succeeded' }),
  })
  .openapi('UploadIntent')

export type UploadRequest = z.infer<typeof UploadRequestSchema>

/** The intent's Idempotency-Key, scoped to the acting user or contact. */
export const intentKeyOf = (c: AppContext, actor: DocumentActor, input: UploadRequest) =>
  idempotencyKeyOf(
    c,
    { organizationId: actor.caller.organizationId, principalId: actor.caller.id },
    JSON.stringify(input),
  )

/** Completion is idempotent by itself: a key is accepted, and changes nothing. */
export const CompletionKeyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({
    description: 'Accepted and ignored: completing again already returns the same version',
  }),
})

export interface ItemTarget {
  requestId: string
  itemId: string
}

/** The item the actor may see, in the statement's FROM (`request_items`, `requests`). */
export function visibleItem(actor: DocumentActor, target: ItemTarget): SQL {
  const { organizationId } = actor.caller
  return sql`${requestItems.id} = ${target.itemId}
    and ${requestItems.requestId} = ${target.requestId}
    and ${requestItems.organizationId} = ${organizationId}
    and ${requestItems.deletedAt} is null
    and ${requests.id} = ${requestItems.requestId}
    and ${requests.organizationId} = ${organizationId}
    and ${requests.deletedAt} is null
    and ${actor.sees}`
}

/** `(select holds as allowed, standing) g`: one row that says whether the caller may act. */
export const gate = (actor: DocumentActor) =>
  sql`(select ${actor.caller.holds} as allowed, ${actor.caller.standing} as standing) g`

/** Accepted items are final; closed requests take no evidence. */
function closedError(itemStatus: string): ApiError {
  return new ApiError('invalid_transition', {
    detail:
      itemStatus === 'accepted'
        ? 'This item has been accepted; it takes no new versions.'
        : 'This request does not take uploads in its current status.',
  })
}

/** Limits that need no database: refused before anything is stored or signed. */
function checkTerms(config: Services['config'], input: UploadRequest): string {
  if (input.sizeBytes > config.UPLOAD_MAX_BYTES) {
    throw new ApiError('payload_too_large', {
      detail: `Uploads are limited to ${config.UPLOAD_MAX_BYTES} bytes.`,
      extensions: { maxBytes: config.UPLOAD_MAX_BYTES },
    })
  }
  const contentType = input.contentType.toLowerCase()
  if (!config.UPLOAD_CONTENT_TYPES.includes(contentType)) {
    throw new ApiError('unsupported_media_type', {
      detail: `${contentType} is not accepted; send PDF, image, Office, CSV or ZIP files.`,
      extensions: { accepted: config.UPLOAD_CONTENT_TYPES },
    })
  }
  return contentType
}

type IntentOutcome = {
  standing: unknown
  item_status: string | null
  created: boolean
  /** On a replay: the intent it returns is still waiting for its upload. */
  replay_open: boolean
}

/** What an intent's key stores for replays; the terms are the request's own (same body). */
const StoredIntent = z.object({ documentId: z.uuid(), signedAt: z.iso.datetime() })

/**
 * Records the intent and signs a PUT for it, in one batch: the item is looked up with the
 * actor's access rules and the intent inserted only if the item still takes uploads. With an
 * Idempotency-Key, a retry gets the same document: while its upload is still awaited the URL
 * is signed afresh (same key and terms) and the intent's expiry moves with it, in the same
 * batch, so the sweeper never takes an intent whose URL still works; once completed (or
 * swept), the first URL comes back unchanged.
 */
export async function createUploadIntent(
  services: Pick<Services, 'config' | 'db'>,
  actor: DocumentActor,
  target: ItemTarget,
  input: UploadRequest,
  completePath: (documentId: string) => string,
  idempotencyKey: IdempotencyKey | undefined,
) {
  const { config, db } = services
  const { caller } = actor
  const contentType = checkTerms(config, input)
  const filename = sanitizeFilename(input.filename)
  const checksum = input.checksumSha256?.toLowerCase() ?? null
  const documentId = crypto.randomUUID()
  const now = new Date()
  const expiresAt = new Date(now.getTime() + config.UPLOAD_URL_TTL_SECONDS * 1000)
  const keyOf = (id: string) =>
    objectKey({ organizationId: caller.organizationId, ...target, documentId: id })

  const replayedId =
    idempotencyKey === undefined
      ? sql`null::uuid`
      : sql`(${storedResponseBody(idempotencyKey)} ->> 'documentId')::uuid`
  const thisItemsIntent = (id: SQL) => sql`${uploadIntents.id} = ${id}
    and ${uploadIntents.organizationId} = ${caller.organizationId}
    and ${uploadIntents.requestId} = ${target.requestId}
    and ${uploadIntents.itemId} = ${target.itemId}`
  const renew = sql`
    update ${uploadIntents} set expires_at = greatest(${uploadIntents.expiresAt},
      ${expiresAt.toISOString()}::timestamptz)
    where ${thisItemsIntent(replayedId)} and ${uploadIntents.completedAt} is null
      and ${caller.holds}`

  const result = await executeWrite<IntentOutcome>(db, {
    key: idempotencyKey,
    allowed: caller.holds,
    change: (claim) => [
      sql`
      insert into ${uploadIntents} (
        id, organization_id, request_id, item_id, object_key, filename, content_type,
        size_bytes, checksum_sha256, created_by_type, created_by_id, expires_at
      )
      select ${documentId}::uuid, ${caller.organizationId}::uuid, ${target.requestId}::uuid,
        ${target.itemId}::uuid, ${keyOf(documentId)}, ${filename}, ${contentType},
        ${input.sizeBytes}::bigint, ${checksum}, ${caller.type}::actor_type, ${caller.id}::uuid,
        ${expiresAt.toISOString()}::timestamptz
      from ${requestItems}, ${requests}
      where ${claim} and ${visibleItem(actor, target)} and ${uploadOpen(actor)}
        and ${requestItems.status} <> 'accepted'`,
      // Only a replay finds a stored body here; a first request's is written after.
      ...(idempotencyKey === undefined ? [] : [renew]),
    ],
    done: sql`exists (select 1 from ${uploadIntents} where ${uploadIntents.id} = ${documentId})`,
    response: {
      status: 201,
      body: sql`jsonb_build_object('documentId', ${documentId}::text,
        'signedAt', ${now.toISOString()}::text)`,
    },
    outcome: sql`
      select g.standing, t.item_status,
        exists (select 1 from ${uploadIntents} where ${uploadIntents.id} = ${documentId})
          as created,
        exists (select 1 from ${uploadIntents}
          where ${thisItemsIntent(replayedId)} and ${uploadIntents.completedAt} is null)
          as replay_open
      from ${gate(actor)} left join lateral (
        select ${requestItems.status}::text as item_status from ${requestItems}, ${requests}
        where g.allowed and ${visibleItem(actor, target)}
      ) t on true`,
  })

  const sign = async (id: string, signedAt: Date) => {
    const terms = {
      contentType,
      sizeBytes: input.sizeBytes,
      contentDisposition: contentDisposition(filename),
      checksumSha256: checksum,
    }
    const upload = await presignUpload(config, keyOf(id), terms, signedAt)
    return {
      documentId: id,
      upload: {
        method: 'PUT' as const,
        url: upload.url,
        headers: upload.headers,
        expiresAt: upload.expiresAt.toISOString(),
      },
      completePath: completePath(id),
    }
  }

  if (result.replay) {
    const stored = StoredIntent.parse(result.replay.body)
    const signedAt = result.outcome.replay_open ? now : new Date(stored.signedAt)
    return { intent: await sign(stored.documentId, signedAt), replayed: true }
  }
  const outcome = result.outcome
  if (!outcome.item_status) explainMissing(actor, outcome.standing, notFound('item'))
  if (!outcome.created) throw closedError(outcome.item_status)
  return { intent: await sign(documentId, now), replayed: false }
}

/** What the store holds under the key, in the terms the intent was recorded with. */
interface Observed {
  size: number | null
  contentType: string | null
  sha256: string | null
}

async function inspect(storage: Services['storage'], key: string): Promise<Observed> {
  const object = await storage.head(key)
  if (!object) return { size: null, contentType: null, sha256: null }

  // The hash is only computed when the signed upload declared one: it reads the bytes.
  const sha256 = object.declaredSha256 ? await storage.sha256(key) : null
  return {
    size: Number.isFinite(object.size) ? object.size : null,
    contentType: object.contentType?.toLowerCase() ?? null,
    sha256,
  }
}

/** The store's answer; a store that cannot answer is a 503, never a verdict on the upload. */
async function observe(storage: Services['storage'], key: string): Promise<Observed> {
  try {
    return await inspect(storage, key)
  } catch (error) {
    throw new ApiError('dependency_unavailable', {
      detail: 'The document store did not answer; retry shortly.',
      headers: { 'retry-after': '5' },
      extensions: { dependency: 'storage' },
      cause: error,
    })
  }
}

type CompletionState = Partial<DocumentRow> & {
  standing: unknown
  expected_size: string | number | null
  expected_type: string | null
  expected_checksum: string | null
  item_status: string | null
}

/** This actor's intent in `upload_intents` (with `request_items` and `requests` in FROM). */
function visibleIntent(actor: DocumentActor, target: ItemTarget, documentId: string, key: string) {
  return sql`${uploadIntents.id} = ${documentId}
    and ${uploadIntents.organizationId} = ${actor.caller.organizationId}
    and ${uploadIntents.requestId} = ${target.requestId}
    and ${uploadIntents.itemId} = ${target.itemId}
    and ${uploadIntents.objectKey} = ${key}
    and ${visibleItem(actor, target)}`
}

/**
 * Verifies the object and records the version. The store is asked first (a binding call,
 * not a database round trip); then one batch claims the intent only if what the store holds
 * matches its terms, and every later statement runs only if that claim happened in this
 * batch, so a mismatch, a missing object or a repeat records nothing.
 */
export async function completeUpload(
  services: Pick<Services, 'db' | 'storage'>,
  actor: DocumentActor,
  target: ItemTarget,
  documentId: string,
) {
  const { db, storage } = services
  const { caller } = actor
  const key = objectKey({ organizationId: caller.organizationId, ...target, documentId })
  const seen = await observe(storage, key)
  const uploadedEvent = crypto.randomUUID()

  // True between the claim and the version insert: only ever inside the claiming batch.
  const claimedNow = sql`exists (
      select 1 from ${uploadIntents}
      where ${uploadIntents.id} = ${documentId} and ${uploadIntents.completedAt} is not null
    ) and not exists (select 1 from ${documents} where ${documents.id} = ${documentId})`
  const recordedNow = eventExists(uploadedEvent)
  const nextVersion = sql`(
      select coalesce(max(${documents.version}), 0) + 1 from ${documents}
      where ${documents.itemId} = ${target.itemId}
    )`

  const [, claimed, , , ...rest] = await db.batch([
    // Completions on one request wait here in turn, so each reads the versions before it.
    db.execute(lockRequest(caller.organizationId, target.requestId)),
    db.execute<{ id: string }>(sql`
      update ${uploadIntents} set completed_at = now()
      from ${requestItems}, ${requests}
      where ${visibleIntent(actor, target, documentId, key)} and ${caller.holds}
        and ${uploadIntents.completedAt} is null
        and ${uploadIntents.sizeBytes} = ${seen.size}::bigint
        and ${uploadIntents.contentType} = ${seen.contentType}
        and (${uploadIntents.checksumSha256} is null
          or ${uploadIntents.checksumSha256} = ${seen.sha256})
        and ${requestItems.status} <> 'accepted'
        and ${uploadOpen(actor)}
      returning ${uploadIntents.id}
    `),
    db.execute(sql`
      insert into ${activityEvents} (
        id, organization_id, request_id, item_id, actor_type, actor_id, action, after
      )
      select ${uploadedEvent}::uuid, ${caller.organizationId}::uuid, ${target.requestId}::uuid,
        ${target.itemId}::uuid, ${caller.type}::actor_type, ${caller.id}::uuid,
        'document.uploaded',
        jsonb_build_object(
          'documentId', ${uploadIntents.id}, 'version', ${nextVersion},
          'filename', ${uploadIntents.filename}, 'contentType', ${uploadIntents.contentType},
          'sizeBytes', ${uploadIntents.sizeBytes}
        )
      from ${uploadIntents}
      where ${uploadIntents.id} = ${documentId} and ${claimedNow}
    `),
    db.execute(sql`
      insert into ${documents} (
        id, organization_id, request_id, item_id, version, object_key, filename, content_type,
        size_bytes, checksum_sha256, uploaded_by_type, uploaded_by_id
      )
      select ${uploadIntents.id}, ${uploadIntents.organizationId}, ${uploadIntents.requestId},
        ${uploadIntents.itemId}, ${nextVersion}, ${uploadIntents.objectKey},
        ${uploadIntents.filename}, ${uploadIntents.contentType}, ${uploadIntents.sizeBytes},
        ${uploadIntents.checksumSha256}, ${uploadIntents.createdByType},
        ${uploadIntents.createdById}
      from ${uploadIntents}
      where ${uploadIntents.id} = ${documentId} and ${recordedNow}
    `),
    ...itemSubmittedStatements({
      actor: caller,
      requestId: target.requestId,
      itemId: target.itemId,
      eventId: crypto.randomUUID(),
      gate: recordedNow,
      detail: { documentId },
    }).map((statement) => db.execute(statement)),
    db.execute<CompletionState>(sql`
      select g.standing, x.* from ${gate(actor)}
      left join lateral (
        select ${uploadIntents.sizeBytes} as expected_size,
          ${uploadIntents.contentType} as expected_type,
          ${uploadIntents.checksumSha256} as expected_checksum,
          ${requestItems.status}::text as item_status, ${documentColumns}
        from ${uploadIntents}
        join ${requestItems} on ${requestItems.id} = ${uploadIntents.itemId}
        join ${requests} on ${requests.id} = ${uploadIntents.requestId}
        left join ${documents} on ${documents.id} = ${uploadIntents.id}
        where ${visibleIntent(actor, target, documentId, key)}
      ) x on g.allowed
    `),
  ])

  const state = rest.at(-1)?.rows[0] as CompletionState | undefined
  if (!state?.item_status) explainMissing(actor, state?.standing, notFound('upload'))
  if (state.id) {
    return { created: claimed.rows.length > 0, document: documentView(state as DocumentRow) }
  }
  throw refusal(state, seen)
}

/** Why nothing was recorded, from the intent's terms and what the store holds. */
function refusal(row: CompletionState, seen: Observed): ApiError {
  if (seen.size === null) {
    return new ApiError('conflict', {
      detail: 'No object has been stored for this upload yet; PUT the file, then complete.',
    })
  }
  const errors = [
    Number(row.expected_size) !== seen.size && {
      path: 'object.sizeBytes',
      message: `expected ${row.expected_size} bytes, the store holds ${seen.size}`,
      code: 'size_mismatch',
    },
    row.expected_type !== seen.contentType && {
      path: 'object.contentType',
      message: `expected ${row.expected_type}, the store holds ${seen.contentType ?? 'none'}`,
      code: 'content_type_mismatch',
    },
    row.expected_checksum !== null &&
      row.expected_checksum !== seen.sha256 && {
        path: 'object.checksumSha256',
        message: 'the stored bytes do not have the declared SHA-256',
        code: 'checksum_mismatch',
      },
  ].filter((error) => error !== false)
  if (errors.length > 0) {
    return new ApiError('unprocessable', {
      detail: 'The stored object does not match the upload it was signed for.',
      errors,
    })
  }
  return closedError(row.item_status ?? '')
}
