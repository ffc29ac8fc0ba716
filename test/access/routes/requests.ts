// The request workflow's rows of the access table (see ../matrix.ts).
import { createItem, createRequest, sentRequest, submitItem } from '../../requests/support'
import { defineRoutes } from '../matrix'
import type { Tenant } from '../tenant'

const draft = async (target: Tenant) => ({ id: (await createRequest(target)).id })

const draftItem = async (target: Tenant) => {
  const request = await createRequest(target)
  return { id: request.id, itemId: (await createItem(target, request.id)).id }
}

/** A sent request of the target's client, visible in its portal. */
const sent = async (target: Tenant) => ({ id: (await sentRequest(target, 1)).request.id })

/** A submitted item, so a review could only be refused for the caller's sake. */
const submitted = async (target: Tenant) => {
  const { request, items } = await sentRequest(target, 1)
  const itemId = items[0]?.id ?? ''
  await submitItem(target, request.id, itemId)
  return { id: request.id, itemId }
}

export const routes = defineRoutes([
  { route: 'GET /v1/requests', access: { staff: 'member' }, crossTenant: 'isolated' },
  {
    route: 'POST /v1/requests',
    access: { staff: 'manager' },
    body: (t) => ({ clientId: t.client.id, title: 'Matrix request' }),
    crossTenant: 'isolated',
  },
  { route: 'GET /v1/requests/{id}', access: { staff: 'member' }, params: draft },
  {
    route: 'PATCH /v1/requests/{id}',
    access: { staff: 'manager' },
    params: draft,
    body: () => ({ title: 'Renamed' }),
  },
  { route: 'DELETE /v1/requests/{id}', access: { staff: 'manager' }, params: draft },
  {
    route: 'POST /v1/requests/{id}/transitions',
    access: { staff: 'manager' },
    params: draft,
    body: () => ({ to: 'sent' }),
  },
  {
    route: 'PUT /v1/requests/{id}/assignee',
    access: { staff: 'manager' },
    params: draft,
    body: (t) => ({ assigneeId: t.staff.member.id }),
  },
  { route: 'GET /v1/requests/{id}/items', access: { staff: 'member' }, params: draft },
  {
    route: 'POST /v1/requests/{id}/items',
    access: { staff: 'manager' },
    params: draft,
    body: () => ({ reference: 'M-1', title: 'Matrix item' }),
  },
  { route: 'GET /v1/requests/{id}/items/{itemId}', access: { staff: 'member' }, params: draftItem },
  {
    route: 'PATCH /v1/requests/{id}/items/{itemId}',
    access: { staff: 'manager' },
    params: draftItem,
    body: () => ({ title: 'Renamed' }),
  },
  {
    route: 'DELETE /v1/requests/{id}/items/{itemId}',
    access: { staff: 'manager' },
    params: draftItem,
  },
  {
    route: 'POST /v1/requests/{id}/items/{itemId}/accept',
    access: { staff: 'manager' },
    params: submitted,
  },
  {
    route: 'POST /v1/requests/{id}/items/{itemId}/return',
    access: { staff: 'manager' },
    params: submitted,
    body: () => ({ reason: 'Matrix reason' }),
  },
  {
    route: 'POST /v1/requests/{id}/import',
    access: { staff: 'manager' },
    params: draft,
    // The matrix sends JSON, which the import refuses (415) before reading anything, so
    // another organization learns nothing; its CSV 404 is in test/requests/import.refused.
    crossTenant: 'isolated',
  },
  { route: 'GET /v1/items', access: { staff: 'member' }, crossTenant: 'isolated' },
  { route: 'GET /v1/requests/{id}/comments', access: { staff: 'member' }, params: draft },
  {
    route: 'POST /v1/requests/{id}/comments',
    access: { staff: 'member' },
    params: draft,
    body: () => ({ body: 'Matrix comment' }),
  },
  { route: 'GET /v1/requests/{id}/activity', access: { staff: 'member' }, params: draft },
  { route: 'GET /v1/portal/requests', access: { portal: true }, crossTenant: 'isolated' },
  { route: 'GET /v1/portal/requests/{id}', access: { portal: true }, params: sent },
  { route: 'GET /v1/portal/requests/{id}/items', access: { portal: true }, params: sent },
  { route: 'GET /v1/portal/requests/{id}/comments', access: { portal: true }, params: sent },
  {
    route: 'POST /v1/portal/requests/{id}/comments',
    access: { portal: true },
    params: sent,
    body: () => ({ body: 'Matrix question' }),
  },
])
