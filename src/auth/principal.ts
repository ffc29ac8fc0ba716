import type { StaffRole } from './roles'

/** A staff member acting within their organization. */
export interface StaffPrincipal {
  kind: 'staff'
  userId: string
  organizationId: string
  role: StaffRole
  /** `users.auth_version` when the token was minted; a bump invalidates sensitive use. */
  authVersion: number
}

/** A client contact signed in to the portal: one organization, one client. */
export interface PortalPrincipal {
  kind: 'portal'
  contactId: string
  clientId: string
  organizationId: string
  sessionId: string
}

export type Principal = StaffPrincipal | PortalPrincipal

/** Whose Idempotency-Keys a staff write uses: the acting user's own, in their organization. */
export const keyScopeOf = (staff: StaffPrincipal) => ({
  organizationId: staff.organizationId,
  principalId: staff.userId,
})
