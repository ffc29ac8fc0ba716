import { createRoute } from '@hono/zod-openapi'
import { requireStaff, staffOf } from '../auth/middleware'
import { createRouter } from '../platform/hono'
import { IdempotencyHeader, replayedHeaders } from '../platform/idempotency'
import {
  jsonBody,
  jsonResponse,
  missingOnBadPath,
  problems,
  staffSecurity,
} from '../platform/openapi'
import { rateLimit } from '../rate-limit/middleware'
import { staffActor } from './access'
import { DocumentSchema, ItemParams, UploadParams } from './model'
import {
  CompletionKeyHeader,
  completeUpload,
  createUploadIntent,
  intentKeyOf,
  UploadIntentSchema,
  UploadRequestSchema,
} from './uploads'

export const staffCompletePath = (requestId: string, itemId: string, documentId: string) =>
  `/v1/requests/${requestId}/items/${itemId}/uploads/${documentId}/complete`

const createUpload = createRoute({
  method: 'post',
  path: '/v1/requests/{requestId}/items/{itemId}/uploads',
  tags: ['Documents'],
  summary: 'Start an upload: a presigned PUT straight to object storage',
  description:
    'Checks the declared size and media type against the limits, records the intent and ' +
    'returns a short-lived URL with the exact headers to send. The bytes never pass ' +
    'through the API; the URL can create the object once and never overwrite it.',
  security: staffSecurity,
  // The per-organization upload budget, after the caller is known.
  middleware: [requireStaff(), rateLimit('uploads')] as const,
  request: {
    params: ItemParams,
    body: jsonBody(UploadRequestSchema),
    headers: IdempotencyHeader,
  },
  responses: {
    201: jsonResponse(
      UploadIntentSchema,
      'Upload URL minted (or replayed: `Idempotent-Replayed: true`)',
    ),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
})

const complete = createRoute({
  method: 'post',
  path: '/v1/requests/{requestId}/items/{itemId}/uploads/{documentId}/complete',
  tags: ['Documents'],
  summary: 'Finish an upload: verify the stored object and record a new version',
  description:
    'Reads the object’s metadata from the store and checks size, media type and (when ' +
    'declared) SHA-256. Only then are the version, the item’s move to `submitted` and an ' +
    'activity event recorded, together. Repeating the call returns the same version (200). ' +
    'A missing object is 409, a mismatched one 422; neither records anything.',
  security: staffSecurity,
  middleware: [requireStaff()] as const,
  request: { params: UploadParams, headers: CompletionKeyHeader },
  responses: {
    201: jsonResponse(DocumentSchema, 'Verified and recorded as a new version'),
    200: jsonResponse(DocumentSchema, 'Already completed: the version recorded then'),
    ...problems(401, 403, 404, 409, 422, 503),
  },
})

export const uploadRoutes = createRouter()
  .openapi(
    createUpload,
    async (c) => {
      const actor = staffActor(c.var.db, staffOf(c))
      const target = c.req.valid('param')
      const input = c.req.valid('json')

      const key = await intentKeyOf(c, actor, input)

      const { intent, replayed } = await createUploadIntent(
        c.var,
        actor,
        target,
        input,
        (documentId) => staffCompletePath(target.requestId, target.itemId, documentId),
        key,
      )
      return c.json(intent, 201, replayed ? replayedHeaders : {})
    },
    missingOnBadPath('item'),
  )
  .openapi(
    complete,
    async (c) => {
      const actor = staffActor(c.var.db, staffOf(c))
      const { documentId, ...target } = c.req.valid('param')

      const result = await completeUpload(c.var, actor, target, documentId)
      if (result.created) {
        c.var.log.info('document version recorded', {
          documentId,
          version: result.document.version,
        })
        return c.json(result.document, 201)
      }
      return c.json(result.document, 200)
    },
    missingOnBadPath('upload'),
  )
