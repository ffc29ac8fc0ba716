import { createRoute, z } from '@hono/zod-openapi'
import { requireStaff, staffOf } from '../auth/middleware'
import { createRouter } from '../platform/hono'
import { jsonResponse, missingOnBadPath, problems, staffSecurity } from '../platform/openapi'
import { staffActor } from './access'
import { DocumentParams, ItemParams } from './model'
import {
  deleteDocument,
  DownloadSchema,
  downloadDocument,
  listVersions,
  VersionListSchema,
} from './versions'

const ListQuery = z.object({
  includeDeleted: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({ description: 'Also list soft-deleted versions (staff only)' }),
})

const list = createRoute({
  method: 'get',
  path: '/v1/requests/{requestId}/items/{itemId}/documents',
  tags: ['Documents'],
  summary: 'List an item’s document versions, newest first',
  security: staffSecurity,
  middleware: [requireStaff()] as const,
  request: { params: ItemParams, query: ListQuery },
  responses: {
    200: jsonResponse(VersionListSchema, 'The versions; empty when nothing was uploaded'),
    ...problems(400, 401, 403, 404),
  },
})

const download = createRoute({
  method: 'get',
  path: '/v1/documents/{documentId}/download',
  tags: ['Documents'],
  summary: 'A short-lived download URL; the download is recorded in the activity trail',
  security: staffSecurity,
  middleware: [requireStaff()] as const,
  request: { params: DocumentParams },
  responses: {
    200: jsonResponse(DownloadSchema, 'Presigned GET with the original filename'),
    ...problems(401, 403, 404),
  },
})

const remove = createRoute({
  method: 'delete',
  path: '/v1/documents/{documentId}',
  tags: ['Documents'],
  summary: 'Soft-delete a version (manager or higher); recorded in the activity trail',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: DocumentParams },
  responses: {
    204: { description: 'Deleted (or already deleted)' },
    ...problems(401, 403, 404),
  },
})

export const documentRoutes = createRouter()
  .openapi(
    list,
    async (c) => {
      const actor = staffActor(c.var.db, staffOf(c))
      const target = c.req.valid('param')
      const { includeDeleted } = c.req.valid('query')

      const versions = await listVersions(c.var, actor, target, includeDeleted === 'true')
      return c.json(versions, 200)
    },
    missingOnBadPath('item'),
  )
  .openapi(
    download,
    async (c) => {
      const actor = staffActor(c.var.db, staffOf(c))
      const { documentId } = c.req.valid('param')

      const link = await downloadDocument(c.var, actor, documentId)
      return c.json(link, 200)
    },
    missingOnBadPath('document'),
  )
  .openapi(
    remove,
    async (c) => {
      const actor = staffActor(c.var.db, staffOf(c), 'manager')
      const { documentId } = c.req.valid('param')

      await deleteDocument(c.var, actor, documentId)
      return c.body(null, 204)
    },
    missingOnBadPath('document'),
  )
