import { describe, expect, it } from 'vitest'
import { call, expectStatus, json } from '../access/tenant'

interface Operation {
  security?: Record<string, unknown>[]
  requestBody?: { required?: boolean; content: Record<string, unknown> }
  responses: Record<string, unknown>
  parameters?: { name: string; in: string }[]
}

type Document = { paths: Record<string, Record<string, Operation>> }

const staff: [string, string][] = [
  ['get', '/v1/requests'],
  ['post', '/v1/requests'],
  ['get', '/v1/requests/{id}'],
  ['patch', '/v1/requests/{id}'],
  ['delete', '/v1/requests/{id}'],
  ['post', '/v1/requests/{id}/transitions'],
  ['put', '/v1/requests/{id}/assignee'],
  ['get', '/v1/requests/{id}/items'],
  ['post', '/v1/requests/{id}/items'],
  ['get', '/v1/requests/{id}/items/{itemId}'],
  ['patch', '/v1/requests/{id}/items/{itemId}'],
  ['delete', '/v1/requests/{id}/items/{itemId}'],
  ['post', '/v1/requests/{id}/items/{itemId}/accept'],
  ['post', '/v1/requests/{id}/items/{itemId}/return'],
  ['post', '/v1/requests/{id}/import'],
  ['get', '/v1/items'],
  ['get', '/v1/requests/{id}/comments'],
  ['post', '/v1/requests/{id}/comments'],
  ['get', '/v1/requests/{id}/activity'],
]

const portal: [string, string][] = [
  ['get', '/v1/portal/requests'],
  ['get', '/v1/portal/requests/{id}'],
  ['get', '/v1/portal/requests/{id}/items'],
  ['get', '/v1/portal/requests/{id}/comments'],
  ['post', '/v1/portal/requests/{id}/comments'],
]

describe('OpenAPI document', () => {
  it('documents every workflow route with its security, body and responses', async () => {
    const response = await call('/openapi.json')
    expectStatus(response, 200)
    const doc = json<Document>(response)
    for (const [routes, scheme] of [
      [staff, 'staffBearer'],
      [portal, 'portalBearer'],
    ] as const) {
      for (const [method, path] of routes) {
        const operation = doc.paths[path]?.[method]
        expect(operation, `${method} ${path}`).toBeDefined()
        expect(operation?.security, `${method} ${path}`).toEqual([{ [scheme]: [] }])
        expect(Object.keys(operation?.responses ?? {}), `${method} ${path}`).toContain('401')
        if (operation?.requestBody) expect(operation.requestBody.required).toBe(true)
      }
    }
    const create = doc.paths['/v1/requests']?.post
    expect(create?.requestBody?.content).toHaveProperty('application/json')
    expect(create?.parameters?.map((parameter) => parameter.name)).toContain('idempotency-key')
    expect(doc.paths['/v1/requests/{id}/import']?.post?.requestBody?.content).toHaveProperty(
      'text/csv',
    )
    const list = doc.paths['/v1/requests']?.get
    expect(list?.parameters?.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['q', 'status', 'clientId', 'updatedSince', 'sort', 'cursor']),
    )
  })
})
