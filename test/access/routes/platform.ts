import { defineRoutes } from '../matrix'

export const routes = defineRoutes([
  { route: 'GET /health', access: { public: 'liveness probe' } },
  { route: 'GET /health/ready', access: { public: 'readiness probe' } },
  { route: 'GET /openapi.json', access: { public: 'the API description' } },
  { route: 'GET /docs', access: { public: 'the API reference page' } },
  {
    route: 'GET /v1/dev/outbox',
    access: { public: 'development and test only; 404 in production' },
    query: 'to=nobody%40example.com',
  },
])
