import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { users } from '../db/schema'
import type { Database } from '../platform/database'
import { ApiError } from '../platform/errors'
import type { StaffPrincipal } from './principal'
import { roleAtLeast, rolesAtLeast, type StaffRole } from './roles'

// Aliased, so the guard can sit inside statements that read or write `users` themselves.
const actorName = 'actor'
const actor = alias(users, actorName)

const sameUser = (staff: StaffPrincipal) =>
  and(eq(actor.id, staff.userId), eq(actor.organizationId, staff.organizationId))

export const staleSession = () =>
  new ApiError('unauthorized', {
    detail: 'Your account changed since this token was issued; refresh it or sign in again.',
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  })

export const roleTooLow = (minimum: StaffRole) =>
  new ApiError('forbidden', { detail: `This action needs the ${minimum} role or higher.` })

function assertStored(rows: ReadonlyArray<StoredActor>, staff: StaffPrincipal, minimum: StaffRole) {
  const stored = rows[0]
  const current = stored && (stored.removedAt ?? null) === null
  if (!current || stored.authVersion !== staff.authVersion) throw staleSession()
  if (!roleAtLeast(stored.role, minimum)) throw roleTooLow(minimum)
}

export interface ActorGuard {
  /** First item of the batch: reads the stored user, only to explain a refusal. */
  check: ReturnType<typeof actorCheck>
  /** Put in every write's WHERE: the write happens only while the actor may make it. */
  holds: SQL
  /** After the batch: throws 401 for a removed or changed user, 403 for a role too low. */
  assert(rows: ReadonlyArray<StoredActor>): void
  /** The stored user as one jsonb value (or null), for a write plan's one-row outcome. */
  standing: SQL
  /** `assert` for a `standing` value read back from the database. */
  assertStanding(standing: unknown): void
}

/** What `check` reads; `removedAt` only matters as null or not (raw SQL gives text). */
export interface StoredActor {
  role: StaffRole
  authVersion: number
  removedAt: unknown
}

function actorCheck(db: Database, staff: StaffPrincipal) {
  return db
    .select({ role: actor.role, authVersion: actor.authVersion, removedAt: actor.removedAt })
    .from(actor)
    .where(sameUser(staff))
}

/**
 * Sensitive writes check the stored user, not only the token, so a removed or demoted user
 * loses access at once rather than when the access token expires. The check lives inside
 * the write's own SQL: no extra round trip, and no window between check and write. The
 * actor's row is share-locked, so a concurrent role change waits for the write (and the
 * write sees the change if it committed first).
 */
export function actorGuard(db: Database, staff: StaffPrincipal, minimum: StaffRole): ActorGuard {
  const holds = sql`exists (
    select 1 from ${users} as ${sql.identifier(actorName)}
    where ${sameUser(staff)}
      and ${actor.removedAt} is null
      and ${actor.authVersion} = ${staff.authVersion}
      and ${inArray(actor.role, rolesAtLeast(minimum))}
    for share)`
  return {
    check: actorCheck(db, staff),
    holds,
    assert: (rows) => assertStored(rows, staff, minimum),
    standing: sql`(select jsonb_build_object('role', ${actor.role},
        'authVersion', ${actor.authVersion}, 'removedAt', ${actor.removedAt})
      from ${users} as ${sql.identifier(actorName)} where ${sameUser(staff)})`,
    assertStanding(standing) {
      assertStored(standing === null ? [] : [standing as StoredActor], staff, minimum)
    },
  }
}

/**
 * Staff reads check the stored user too, so a removed or demoted user stops reading at once.
 * The read starts FROM the actor's own row and LEFT JOINs what it lists ON `holds`: still one
 * query, and no row means no such user, a row without data means a refusal or an empty list.
 * Unlike the write guard it takes no lock, so a GET stays a plain read.
 */
export function actorReader(staff: StaffPrincipal, minimum: StaffRole = 'member') {
  return {
    /** The FROM of the read. */
    actor,
    /** Its WHERE: the caller's own row. */
    identifies: sameUser(staff) ?? sql`false`,
    /** Part of every LEFT JOIN's ON: the caller may read now. */
    holds:
      and(
        isNull(actor.removedAt),
        eq(actor.authVersion, staff.authVersion),
        inArray(actor.role, rolesAtLeast(minimum)),
      ) ?? sql`false`,
    /** Select it as `standing` to explain a refusal. */
    columns: { role: actor.role, authVersion: actor.authVersion, removedAt: actor.removedAt },
    /** Throws 401 for no row or a stale token, 403 for a role too low. */
    assert(rows: ReadonlyArray<{ standing: StoredActor }>) {
      assertStored(rows.map((row) => row.standing), staff, minimum)
    },
  }
}
