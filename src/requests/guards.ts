import { type SQL, sql } from 'drizzle-orm'
import { actorGuard } from '../auth/actor-guard'
import type { PortalPrincipal, StaffPrincipal } from '../auth/principal'
import { rolesAtLeast, type StaffRole } from '../auth/roles'
import type { Database } from '../platform/database'
import { portalSessionEnded, portalSessionHolds } from '../portal/session-guard'

/**
 * Who is acting, as the SQL of a write or read sees it. Staff checks reuse the shared actor
 * guard (stored role, removal, auth version); portal checks read the session and contact.
 * Both run inside the endpoint's one statement or batch, never as a query of their own.
 */
export interface Caller {
  /** Activity and comment authorship. */
  type: 'user' | 'contact'
  id: string
  organizationId: string
  /** SQL boolean: the caller may act now. */
  holds: SQL
  /** jsonb describing the stored caller, read in the outcome to explain a refusal. */
  standing: SQL
  /** Throws the right 401/403 for a refusal; `standing` is that column's value. */
  assert(standing: unknown): void
}

interface StoredStaff {
  role: StaffRole
  authVersion: number
  removedAt: string | null
}

const storedStaff = (staff: StaffPrincipal) => sql`(
  select jsonb_build_object('role', su.role, 'authVersion', su.auth_version,
    'removedAt', su.removed_at)
  from users su
  where su.id = ${staff.userId}::uuid and su.organization_id = ${staff.organizationId}::uuid)`

/** Staff writes: the shared guard, which also share-locks the actor's row for the batch. */
export function staffCaller(db: Database, staff: StaffPrincipal, minimum: StaffRole): Caller {
  const guard = actorGuard(db, staff, minimum)
  return {
    type: 'user',
    id: staff.userId,
    organizationId: staff.organizationId,
    holds: guard.holds,
    standing: storedStaff(staff),
    assert(standing) {
      guard.assert(standing === null ? [] : [standing as StoredStaff])
    },
  }
}

/**
 * Staff reads: the same stored-state check without the row lock, so a read stays a plain
 * read (no tuple lock written on every GET, and it would run on a read replica).
 */
export function staffReader(
  db: Database,
  staff: StaffPrincipal,
  minimum: StaffRole = 'member',
): Caller {
  const writer = staffCaller(db, staff, minimum)
  const holds = sql`exists (
    select 1 from users ru
    where ru.id = ${staff.userId}::uuid and ru.organization_id = ${staff.organizationId}::uuid
      and ru.removed_at is null and ru.auth_version = ${staff.authVersion}
      and ru.role in ${rolesAtLeast(minimum)})`
  return { ...writer, holds }
}

/** Portal checks reuse the shared session guard (session, contact and client all live). */
export function portalCaller(portal: PortalPrincipal): Caller {
  const holds = portalSessionHolds(portal)
  return {
    type: 'contact',
    id: portal.contactId,
    organizationId: portal.organizationId,
    holds,
    standing: holds,
    assert(standing) {
      if (standing !== true) throw portalSessionEnded()
    },
  }
}
