import type { AppMiddleware } from '../platform/hono'
import type { CacheScope } from './response-cache'

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const requestPath = new RegExp(`^/v1/(?:portal/)?requests/(${uuid})(?:/|$)`, 'i')
const directoryPath = /^\/v1\/(?:clients|users|invitations)(?:\/|$)/
const portalLogout = '/v1/portal/auth/logout'
const unchanged = /^\/v1\/(?:auth|portal\/auth)\//

/**
 * The scopes a successful write changes, from its path alone, so no write route can forget
 * to invalidate. A path not listed bumps every scope of the organization: over-invalidating
 * costs hit rate, never correctness.
 */
export function scopesWrittenBy(path: string): CacheScope[] {
  const request = requestPath.exec(path)?.[1]?.toLowerCase()
  if (request !== undefined) return ['requests', `request:${request}`]
  if (path === '/v1/requests') return ['requests']
  if (directoryPath.test(path)) return ['directory']
  if (unchanged.test(path)) return []
  return ['requests', 'directory']
}

const reads = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * App middleware: after a 2xx write by a signed-in caller, bumps the versions of what it
 * changed (see `scopesWrittenBy`), and on portal logout drops the session's cached proof.
 * Runs after the handler's batch has committed and before the answer leaves, so the
 * writer's next read already sees the new versions.
 */
export const invalidateAfterWrites: AppMiddleware = async function invalidateAfterWrites(
  c,
  next,
) {
  await next()
  if (reads.has(c.req.method) || c.res.status < 200 || c.res.status >= 300) return
  const principal = c.get('principal')
  if (!principal) return

  if (principal.kind === 'portal' && c.req.path === portalLogout) {
    await c.var.cache.forget({ sessionId: principal.sessionId })
  }
  const scopes = scopesWrittenBy(c.req.path)
  if (scopes.length > 0) await c.var.cache.invalidate(principal, scopes)
}
