import { createRoute } from '@hono/zod-openapi'
import { portalOf, requirePortal } from '../auth/middleware'
import { portalActor } from '../documents/access'
import { DocumentParams, DocumentSchema, ItemParams, UploadParams } from '../documents/model'
import {
  CompletionKeyHeader,
  completeUpload,
  createUploadIntent,
  intentKeyOf,
  UploadIntentSchema,
  UploadRequestSchema,
} from '../documents/uploads'
import {
  DownloadSchema,
  downloadDocument,
  listVersions,
  VersionListSchema,
} from '../documents/versions'
import { createRouter } from '../platform/hono'
import { IdempotencyHeader, replayedHeaders } from '../platform/idempotency'
import {
  jsonBody,
  jsonResponse,
  missingOnBadPath,
  portalSecurity,
  problems,
} from '../platform/openapi'
import { rateLimit } from '../rate-limit/middleware'

// The portal twins of the staff document routes: the client comes from the session, so a
// contact only ever reaches requests sent to their own client.

const portalCompletePath = (requestId: string, itemId: string, documentId: string) =>
  `/v1/portal/requests/${requestId}/items/${itemId}/uploads/${documentId}/complete`

const createUpload = createRoute({
  method: 'post',
  path: '/v1/portal/requests/{requestId}/items/{itemId}/uploads',
  tags: ['Portal'],
  summary: 'Start an upload for an item of a request sent to your client',
  security: portalSecurity,
  // The per-organization upload budget, after the caller is known.
  middleware: [requirePortal(), rateLimit('uploads')] as const,
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
    ...problems(400, 401, 404, 409, 413, 415, 422, 429),
  },
})

const complete = createRoute({
  method: 'post',
  path: '/v1/portal/requests/{requestId}/items/{itemId}/uploads/{documentId}/complete',
  tags: ['Portal'],
  summary: 'Finish an upload: the stored object is verified, then recorded as a version',
  security: portalSecurity,
  middleware: [requirePortal()] as const,
  request: { params: UploadParams, headers: CompletionKeyHeader },
  responses: {
    201: jsonResponse(DocumentSchema, 'Verified and recorded as a new version'),
    200: jsonResponse(DocumentSchema, 'Already completed: the version recorded then'),
    ...problems(401, 404, 409, 422, 503),
  },
})

const list = createRoute({
  method: 'get',
  path: '/v1/portal/requests/{requestId}/items/{itemId}/documents',
  tags: ['Portal'],
  summary: 'List an item’s document versions, newest first',
  security: portalSecurity,
  middleware: [requirePortal()] as const,
  request: { params: ItemParams },
  responses: {
    200: jsonResponse(VersionListSchema, 'The versions; deleted ones are not shown'),
    ...problems(401, 404),
  },
})

const download = createRoute({
  method: 'get',
  path: '/v1/portal/documents/{documentId}/download',
  tags: ['Portal'],
  summary: 'A short-lived download URL; the download is recorded in the activity trail',
  security: portalSecurity,
  middleware: [requirePortal()] as const,
  request: { params: DocumentParams },
  responses: {
    200: jsonResponse(DownloadSchema, 'Presigned GET with the original filename'),
    ...problems(401, 404),
  },
})

export const portalDocumentRoutes = createRouter()
  .openapi(
    createUpload,
    async (c) => {
      const actor = portalActor(portalOf(c))
      const target = c.req.valid('param')
      const input = c.req.valid('json')

      const key = await intentKeyOf(c, actor, input)

      const { intent, replayed } = await createUploadIntent(
        c.var,
        actor,
        target,
        input,
        (documentId) => portalCompletePath(target.requestId, target.itemId, documentId),
        key,
      )
      return c.json(intent, 201, replayed ? replayedHeaders : {})
    },
    missingOnBadPath('item'),
  )
  .openapi(
    complete,
    async (c) => {
      const actor = portalActor(portalOf(c))
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
  .openapi(
    list,
    async (c) => {
      const actor = portalActor(portalOf(c))
      const target = c.req.valid('param')

      return c.json(await listVersions(c.var, actor, target, false), 200)
    },
    missingOnBadPath('item'),
  )
  .openapi(
    download,
    async (c) => {
      const actor = portalActor(portalOf(c))
      const { documentId } = c.req.valid('param')

      return c.json(await downloadDocument(c.var, actor, documentId), 200)
    },
    missingOnBadPath('document'),
  )
