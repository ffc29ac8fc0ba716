import { ApiError } from '../platform/errors'
import type { AppContext, AppMiddleware } from '../platform/hono'
import { enforceRateLimit } from '../rate-limit/middleware'
import type { PortalPrincipal, StaffPrincipal } from './principal'
import { roleAtLeast, type StaffRole } from './roles'
import { InvalidTokenError, verifyPortalToken, verifyStaffToken } from './tokens'

function bearerToken(c: AppContext): string {
  const header = c.req.header('authorization')
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  const match = header?.match(/^Bearer ([A-Za-z0-9._~+/=-]+)$/i)
  if (!match?.[1]) {
    throw new ApiError('unauthorized', {
      detail: 'Send a bearer token in the Authorization header.',
      headers: { 'www-authenticate': 'Bearer' },
    })
  }
  return match[1]
}

function unauthorized(error: unknown): never {
  if (error instanceof InvalidTokenError) {
    throw new ApiError('unauthorized', {
      detail:
        error.reason === 'expired'
          ? 'The access token has expired.'
          : 'The access token is not valid.',
      headers: { 'www-authenticate': `Bearer error="invalid_token"` },
      cause: error,
    })
  }
  throw error
}

/**
 * Staff routes: a valid staff access token, and a role at or above `minimum`. The token is
 * checked without I/O; routes whose effect is sensitive re-check the stored role in their
 * own SQL, so a demoted or removed user is refused at once.
 */
export function requireStaff(minimum: StaffRole = 'member'): AppMiddleware {
  return async function staffOnly(c, next) {
    const staff = await verifyStaffToken(c.var.config, bearerToken(c)).catch(unauthorized)
    if (!roleAtLeast(staff.role, minimum)) {
      throw new ApiError('forbidden', {
        detail: `This action needs the ${minimum} role or higher.`,
      })
    }
    c.set('principal', staff)
    // The authenticated API's per-user budget (RATE_LIMIT_API); fails open.
    await enforceRateLimit(c, 'api')
    await next()
  }
}

/** Portal routes: a portal session token; the client comes from the token, never the URL. */
export function requirePortal(): AppMiddleware {
  return async function portalOnly(c, next) {
    const portal = await verifyPortalToken(c.var.config, bearerToken(c)).catch(unauthorized)
    c.set('principal', portal)
    await enforceRateLimit(c, 'api')
    await next()
  }
}

export function staffOf(c: AppContext): StaffPrincipal {
  const principal = c.get('principal')
  if (principal?.kind !== 'staff') throw new ApiError('unauthorized')
  return principal
}

export function portalOf(c: AppContext): PortalPrincipal {
  const principal = c.get('principal')
  if (principal?.kind !== 'portal') throw new ApiError('unauthorized')
  return principal
}
