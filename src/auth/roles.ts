import { staffRoles } from '../db/schema'

export type StaffRole = (typeof staffRoles)[number]

// Higher rank includes every permission of the ranks below it.
const rank: Record<StaffRole, number> = { member: 0, manager: 1, admin: 2, owner: 3 }

export const roleAtLeast = (role: StaffRole, minimum: StaffRole) => rank[role] >= rank[minimum]

/** Roles at or above `minimum`, for SQL checks against the stored role. */
export const rolesAtLeast = (minimum: StaffRole) =>
  staffRoles.filter((role) => roleAtLeast(role, minimum))

/**
 * Staff management: managers and above manage people at or below their own rank and grant
 * roles up to it (so members manage no one, managers cannot grant admin, only owners make
 * owners). The least role that may grant `role`:
 */
export const minimumToGrant = (role: StaffRole): StaffRole =>
  roleAtLeast(role, 'manager') ? role : 'manager'
