import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../platform/hono'
import { enforceRateLimit } from './middleware'
import type { PolicyName } from './policies'

/**
 * The unauthenticated routes that take or mint credentials, each limited per client IP and
 * failing closed. Kept in one table so the whole credential surface is reviewable at once;
 * test/rate-limit checks every entry against the mounted routes.
 */
export const credentialRoutes: readonly { path: string; policy: PolicyName }[] = [
  { path: '/v1/auth/login', policy: 'login' },
  { path: '/v1/auth/signup', policy: 'signup' },
  { path: '/v1/auth/refresh', policy: 'refresh' },
  { path: '/v1/portal/auth/links', policy: 'signin-links' },
  { path: '/v1/portal/auth/sessions', policy: 'portal-sessions' },
  // Inspecting a link tests a token as much as consuming it does: the same budget.
  { path: '/v1/portal/auth/links/inspect', policy: 'portal-sessions' },
  { path: '/v1/invitations/accept', policy: 'invitations' },
]

/** Registers the per-IP limits; call before the routes are mounted. */
export function limitCredentialRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const route of credentialRoutes) {
    app.use(route.path, async function credentialRateLimit(c, next) {
      if (c.req.method === 'POST') await enforceRateLimit(c, route.policy)
      await next()
    })
  }
}
