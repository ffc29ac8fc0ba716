import { type SQL, sql } from 'drizzle-orm'
import type { PortalPrincipal } from '../auth/principal'
import { clientContacts, clients, portalSessions } from '../db/schema'
import { ApiError } from '../platform/errors'

/**
 * A portal token is only as good as its session row. Put this condition in the SQL of every
 * portal read and write: a revoked or expired session, a disabled or deleted contact and a
 * deleted client end access at once, in the same statement, at no extra round trip.
 */
export function portalSessionHolds(portal: PortalPrincipal): SQL {
  return sql`exists (
    select 1 from ${portalSessions} ps
    join ${clientContacts} pc on pc.id = ps.contact_id and pc.client_id = ps.client_id
    join ${clients} pcl on pcl.id = ps.client_id
    where ps.id = ${portal.sessionId}::uuid
      and ps.contact_id = ${portal.contactId}::uuid
      and ps.client_id = ${portal.clientId}::uuid
      and ps.organization_id = ${portal.organizationId}::uuid
      and ps.revoked_at is null and ps.expires_at > now()
      and pc.disabled_at is null and pcl.deleted_at is null)`
}

export const portalSessionEnded = () =>
  new ApiError('unauthorized', {
    detail: 'This portal session has ended; sign in again.',
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  })
