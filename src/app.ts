import { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { secureHeaders } from 'hono/secure-headers'
import { authRoutes } from './auth/routes'
import { invalidateAfterWrites } from './cache/invalidation'
import { contactRoutes } from './clients/contacts-routes'
import { clientRoutes } from './clients/routes'
import { docsRoutes } from './docs/routes'
import { documentRoutes } from './documents/document-routes'
import { uploadRoutes } from './documents/upload-routes'
import { devRoutes } from './email/dev-routes'
import { healthRoutes } from './health/routes'
import { notFoundHandler, onError } from './platform/error-handler'
import { ApiError } from './platform/errors'
import type { AppEnv } from './platform/hono'
import { requestContext } from './platform/request-context'
import { validationHook } from './platform/validation'
import { portalAuthRoutes } from './portal/auth-routes'
import { portalDocumentRoutes } from './portal/document-routes'
import { portalRequestRoutes } from './portal/request-routes'
import { limitCredentialRoutes } from './rate-limit/credential-routes'
import { activityRoutes } from './requests/activity-routes'
import { commentRoutes } from './requests/comment-routes'
import { importRoutes } from './requests/import-routes'
import { itemRoutes } from './requests/item-routes'
import { requestRoutes } from './requests/request-routes'
import { invitationRoutes } from './staff/invitations-routes'
import { userRoutes } from './staff/users-routes'

// The limit comes from config, known only per request; the middleware is built once per size.
const bodyLimits = new Map<number, MiddlewareHandler>()
function bodyLimitFor(maxSize: number): MiddlewareHandler {
  let limit = bodyLimits.get(maxSize)
  if (!limit) {
    limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError('payload_too_large', {
          detail: `Request bodies are limited to ${maxSize} bytes.`,
        })
      },
    })
    bodyLimits.set(maxSize, limit)
  }
  return limit
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })

  app.use(requestContext)
  app.use(
    cors({
      origin: (origin, c) => (c.var.config?.APP_ORIGINS.includes(origin) ? origin : null),
      allowHeaders: [
        'authorization',
        'content-type',
        'idempotency-key',
        'if-match',
        'if-none-match',
        'x-request-id',
      ],
      allowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'],
      exposeHeaders: [
        'etag',
        'x-request-id',
        'server-timing',
        'ratelimit',
        'ratelimit-policy',
        'retry-after',
        'x-cache',
        'idempotent-replayed',
      ],
      maxAge: 600,
    }),
  )
  app.use(secureHeaders({ crossOriginResourcePolicy: 'same-site' }))
  // No compression middleware: Cloudflare compresses responses for the client's
  // Accept-Encoding itself, and the runtime rewrites that header before the Worker sees it.
  app.use(function limitBody(c, next) {
    return bodyLimitFor(c.var.config.MAX_BODY_BYTES)(c, next)
  })
  limitCredentialRoutes(app)
  app.use('/v1/*', invalidateAfterWrites)

  app.route('/', healthRoutes)
  app.route('/', uploadRoutes)
  app.route('/', documentRoutes)
  app.route('/', portalDocumentRoutes)
  app.route('/', authRoutes)
  app.route('/', userRoutes)
  app.route('/', invitationRoutes)
  app.route('/', devRoutes)
  app.route('/', clientRoutes)
  app.route('/', contactRoutes)
  app.route('/', portalAuthRoutes)
  app.route('/', requestRoutes)
  app.route('/', itemRoutes)
  app.route('/', importRoutes)
  app.route('/', commentRoutes)
  app.route('/', activityRoutes)
  app.route('/', portalRequestRoutes)
  app.route('/', docsRoutes(app))

  app.onError(onError)
  app.notFound(notFoundHandler(app.routes))
  return app
}

export type App = ReturnType<typeof createApp>
