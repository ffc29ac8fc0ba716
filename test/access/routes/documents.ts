import { env } from 'cloudflare:test'
import { documents, uploadIntents } from '../../../src/db/schema'
import { objectKey } from '../../../src/documents/model'
import { seedItems } from '../../documents/support'
import { defineRoutes } from '../matrix'
import { database, type Tenant } from '../tenant'

const pdf = () => ({ filename: 'matrix.pdf', contentType: 'application/pdf', sizeBytes: 8 })

/** An item of a sent request of the target's client. */
async function item(target: Tenant) {
  const items = await seedItems(target)
  return { requestId: items.requestId, itemId: items.itemIds[0] ?? '' }
}

/** A started upload whose object is already stored, so only credentials can refuse it. */
async function pendingUpload(target: Tenant) {
  const ids = await item(target)
  const documentId = crypto.randomUUID()
  const key = objectKey({ organizationId: target.organization.id, ...ids, documentId })
  await database()
    .insert(uploadIntents)
    .values({
      id: documentId,
      organizationId: target.organization.id,
      ...ids,
      objectKey: key,
      filename: 'matrix.pdf',
      contentType: 'application/pdf',
      sizeBytes: 8,
      createdByType: 'user',
      createdById: target.staff.member.id,
      expiresAt: new Date(Date.now() + 300_000),
    })
  await env.DOCUMENTS.put(key, '%PDF-1.7', { httpMetadata: { contentType: 'application/pdf' } })
  return { ...ids, documentId }
}

/** A verified version, written directly. */
async function version(target: Tenant) {
  const ids = await item(target)
  const documentId = crypto.randomUUID()
  await database()
    .insert(documents)
    .values({
      id: documentId,
      organizationId: target.organization.id,
      ...ids,
      version: 1,
      objectKey: objectKey({ organizationId: target.organization.id, ...ids, documentId }),
      filename: 'matrix.pdf',
      contentType: 'application/pdf',
      sizeBytes: 8,
      uploadedByType: 'contact',
      uploadedById: target.contact.id,
    })
  return { documentId }
}

export const routes = defineRoutes([
  {
    route: 'POST /v1/requests/{requestId}/items/{itemId}/uploads',
    access: { staff: 'member' },
    params: item,
    body: pdf,
  },
  {
    route: 'POST /v1/requests/{requestId}/items/{itemId}/uploads/{documentId}/complete',
    access: { staff: 'member' },
    params: pendingUpload,
  },
  {
    route: 'GET /v1/requests/{requestId}/items/{itemId}/documents',
    access: { staff: 'member' },
    params: item,
  },
  {
    route: 'GET /v1/documents/{documentId}/download',
    access: { staff: 'member' },
    params: version,
  },
  { route: 'DELETE /v1/documents/{documentId}', access: { staff: 'manager' }, params: version },
  {
    route: 'POST /v1/portal/requests/{requestId}/items/{itemId}/uploads',
    access: { portal: true },
    params: item,
    body: pdf,
  },
  {
    route: 'POST /v1/portal/requests/{requestId}/items/{itemId}/uploads/{documentId}/complete',
    access: { portal: true },
    params: pendingUpload,
  },
  {
    route: 'GET /v1/portal/requests/{requestId}/items/{itemId}/documents',
    access: { portal: true },
    params: item,
  },
  {
    route: 'GET /v1/portal/documents/{documentId}/download',
    access: { portal: true },
    params: version,
  },
])
