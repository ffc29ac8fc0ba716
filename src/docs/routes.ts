import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../platform/hono'
import { createRouter } from '../platform/hono'

const info = {
  title: 'CurrentMesh API',
  version: '0.1.0',
  description:
    'Document-request management for audit teams: organizations, staff, clients, PBC request ' +
    'lists, items, comments, activity and direct-to-storage uploads. Errors are RFC 9457 ' +
    'problem+json with a stable `code`.',
}

// Swagger UI's files are served as static assets (see `[assets]` in wrangler.toml), so the
// page works offline and the Worker bundle stays small.
const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CurrentMesh API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/docs-init.js"></script>
</body>
</html>`

/** `/openapi.json` is generated from the same zod schemas that validate requests. */
export function docsRoutes(app: OpenAPIHono<AppEnv>) {
  const router = createRouter()
  app.openAPIRegistry.registerComponent('securitySchemes', 'staffBearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Staff access token from /auth/login or /auth/refresh',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'portalBearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Portal session token from /portal/auth/sessions',
  })
  router.get('/openapi.json', (c) => {
    const servers = [{ url: new URL(c.req.url).origin }]
    return c.json(app.getOpenAPI31Document({ openapi: '3.1.0', info, servers }))
  })
  router.get('/docs', (c) => c.html(page))
  return router
}
