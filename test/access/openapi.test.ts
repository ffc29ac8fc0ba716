/// <reference types="vite/client" />
// The OpenAPI document is generated from the routes themselves; this holds every declared
// route to the contract: documented, with the right security scheme, problem responses,
// and required request bodies.
import { describe, expect, it } from 'vitest'
import type { RouteAccess } from './matrix'
import { call, expectStatus, json } from './tenant'

const declared = Object.values(
  import.meta.glob<{ routes: RouteAccess[] }>('./routes/*.ts', { eager: true }),
).flatMap((file) => file.routes)

// Served by the Worker but not API operations, or development-only and hidden on purpose.
const undocumented = new Set(['GET /openapi.json', 'GET /docs', 'GET /v1/dev/outbox'])

interface Operation {
  security?: Record<string, unknown>[]
  requestBody?: { required?: boolean }
  responses: Record<string, { content?: Record<string, unknown> }>
}

describe('the OpenAPI document', () => {
  it('documents every declared route with its security, problems and required bodies', async () => {
    const response = await call('/openapi.json')
    expectStatus(response, 200)
    const paths = json<{ paths: Record<string, Record<string, Operation>> }>(response).paths

    for (const entry of declared.filter((row) => !undocumented.has(row.route))) {
      const [method = '', path = ''] = entry.route.split(' ')
      const operation = paths[path]?.[method.toLowerCase()]
      expect(operation, `${entry.route} is not in /openapi.json`).toBeDefined()
      if (!operation) continue

      const schemes = (operation.security ?? []).flatMap((item) => Object.keys(item))
      const scheme = 'portal' in entry.access ? 'portalBearer' : 'staffBearer'
      const expected = 'public' in entry.access ? [] : [scheme]
      expect(schemes, `${entry.route} security`).toEqual(expected)
      if (!('public' in entry.access)) {
        expect(Object.keys(operation.responses), `${entry.route} documents 401`).toContain('401')
      }
      if (operation.requestBody) {
        expect(operation.requestBody.required, `${entry.route} body required`).toBe(true)
      }
      // Health probes answer their own JSON, 503 included; everything else fails as a problem.
      if (entry.route.startsWith('GET /health')) continue
      const responses = Object.entries(operation.responses)
      const problems = responses.filter(([status]) => Number(status) >= 400)
      expect(problems.length, `${entry.route} documents its errors`).toBeGreaterThan(0)
      for (const [status, body] of problems) {
        expect(Object.keys(body.content ?? {}), `${entry.route} ${status}`).toEqual([
          'application/problem+json',
        ])
      }
    }
  })
})
