// Documents on top of the shared tenant harness: a sent request with items for a tenant, and
// objects written straight into the bucket binding, as a client's PUT would leave them.
import { env } from 'cloudflare:test'
import * as schema from '../../src/db/schema'
import { objectKey } from '../../src/documents/model'
import { call, database, type Tenant } from '../access/tenant'

export interface Items {
  requestId: string
  itemIds: string[]
}

export async function seedItems(
  tenant: Tenant,
  status: (typeof schema.requestStatuses)[number] = 'sent',
  count = 2,
): Promise<Items> {
  const db = database()
  const requestId = crypto.randomUUID()
  const itemIds = Array.from({ length: count }, () => crypto.randomUUID())
  await db.batch([
    db.insert(schema.requests).values({
      id: requestId,
      organizationId: tenant.organization.id,
      clientId: tenant.client.id,
      title: 'Year-end audit',
      status,
    }),
    db.insert(schema.requestItems).values(
      itemIds.map((id, index) => ({
        id,
        organizationId: tenant.organization.id,
        requestId,
        reference: `PBC-${index + 1}`,
        title: `Evidence ${index + 1}`,
        position: index,
      })),
    ),
  ])
  return { requestId, itemIds }
}

export const uploadsPath = (items: Items, index = 0, portal = false) =>
  `/v1/${portal ? 'portal/' : ''}requests/${items.requestId}/items/${items.itemIds[index]}/uploads`

export const pdf = (sizeBytes = 1024) => ({
  filename: 'evidence.pdf',
  contentType: 'application/pdf',
  sizeBytes,
})

export interface Intent {
  documentId: string
  upload: { url: string; headers: Record<string, string> }
  completePath: string
}

export async function startUpload(tenant: Tenant, items: Items, body = pdf(), index = 0) {
  return call(uploadsPath(items, index), { token: tenant.staff.member.token, body })
}

/** Stores bytes under the intent's key with the given type, as the store would after a PUT. */
export async function storeObject(
  tenant: Tenant,
  items: Items,
  documentId: string,
  bytes: Uint8Array,
  contentType = 'application/pdf',
  index = 0,
) {
  const key = objectKey({
    organizationId: tenant.organization.id,
    requestId: items.requestId,
    itemId: items.itemIds[index] ?? '',
    documentId,
  })
  await env.DOCUMENTS.put(key, bytes, { httpMetadata: { contentType } })
  return key
}
