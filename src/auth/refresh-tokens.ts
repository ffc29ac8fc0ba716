import { and, eq, exists, gt, inArray, isNull, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { organizations, refreshTokens, users } from '../db/schema'
import type { Config } from '../env'
import type { Database } from '../platform/database'
import { rawRows, secondsAgo, secondsFromNow } from '../platform/sql-helpers'
import type { StaffRole } from './roles'
import { hashSecret, newSecret } from './secrets'

/**
 * Refresh tokens (RFC 9700 §4.14): opaque, stored as SHA-256 hashes, one family per
 * sign-in, rotated on every use. Presenting a rotated token again means it was copied, so
 * the whole family is revoked, unless it comes within REFRESH_REUSE_GRACE_SECONDS of the
 * rotation: two tabs refreshing at once both get a working token of the same family.
 */

export interface RefreshOwner {
  userId: string
  organizationId: string
}

/** A new token and the insert that stores it; the caller puts the insert in its batch. */
export async function issueRefreshToken(
  db: Database,
  config: Config,
  owner: RefreshOwner,
  familyId: string = crypto.randomUUID(),
) {
  const { secret, hash } = await newSecret('refresh')
  const insert = db.insert(refreshTokens).values({
    organizationId: owner.organizationId,
    userId: owner.userId,
    familyId,
    tokenHash: hash,
    expiresAt: secondsFromNow(config.REFRESH_TOKEN_TTL_SECONDS),
  })
  return { token: secret, insert }
}

/** The stored user a rotation signs for: role and version come from the row, not the old token. */
export interface RefreshedUser {
  id: string
  organizationId: string
  email: string
  name: string
  role: StaffRole
  authVersion: number
  organizationName: string
  organizationSlug: string
}

export type Rotation =
  | { ok: true; token: string; user: RefreshedUser }
  | { ok: false; revokedFamily: string | undefined }

const presented = alias(refreshTokens, 'presented')

/**
 * One round trip, one transaction, three statements, each with its own snapshot (READ
 * COMMITTED), which is what makes the race safe:
 * 1. rotate: a conditional UPDATE … WHERE rotated_at IS NULL. Of two concurrent calls only
 *    one matches; the other waits for the row lock, re-checks, and matches nothing.
 * 2. issue: insert the successor if statement 1 rotated the token here, or if it was
 *    rotated elsewhere within the grace window (that second caller gets a sibling token).
 *    It joins the stored user, so a removed user gets nothing.
 * 3. reuse: a token rotated before the grace window revokes its whole family.
 */
export async function rotateRefreshToken(
  db: Database,
  config: Config,
  token: string,
): Promise<Rotation> {
  const [hash, next] = await Promise.all([hashSecret(token), newSecret('refresh')])
  const successorId = crypto.randomUUID()
  const grace = config.REFRESH_REUSE_GRACE_SECONDS

  const rotate = db
    .update(refreshTokens)
    .set({ rotatedAt: sql`now()`, replacedBy: successorId })
    .where(
      and(
        eq(refreshTokens.tokenHash, hash),
        isNull(refreshTokens.rotatedAt),
        isNull(refreshTokens.revokedAt),
        gt(refreshTokens.expiresAt, sql`now()`),
        exists(
          db
            .select({ one: sql`1` })
            .from(users)
            .where(and(eq(users.id, refreshTokens.userId), isNull(users.removedAt))),
        ),
      ),
    )
    .returning({ id: refreshTokens.id })

  const issue = db.execute(sql`
    with issued as (
      insert into ${refreshTokens}
        (id, organization_id, user_id, family_id, token_hash, expires_at)
      select ${successorId}::uuid, t.organization_id, t.user_id, t.family_id, ${next.hash},
        ${secondsFromNow(config.REFRESH_TOKEN_TTL_SECONDS)}
      from ${refreshTokens} t
      join ${users} u on u.id = t.user_id and u.removed_at is null
      where t.token_hash = ${hash}
        and t.revoked_at is null
        and t.expires_at > now()
        and (t.replaced_by = ${successorId}::uuid or t.rotated_at > ${secondsAgo(grace)})
      returning user_id
    )
    select u.id, u.organization_id as "organizationId", u.email, u.name, u.role,
      u.auth_version as "authVersion", o.name as "organizationName",
      o.slug as "organizationSlug"
    from issued i
    join ${users} u on u.id = i.user_id
    join ${organizations} o on o.id = u.organization_id`)

  const revokeOnReuse = db
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        isNull(refreshTokens.revokedAt),
        inArray(
          refreshTokens.familyId,
          db
            .select({ familyId: presented.familyId })
            .from(presented)
            .where(
              and(
                eq(presented.tokenHash, hash),
                sql`${presented.rotatedAt} <= ${secondsAgo(grace)}`,
                sql`${presented.replacedBy} is distinct from ${successorId}::uuid`,
              ),
            ),
        ),
      ),
    )
    .returning({ familyId: refreshTokens.familyId })

  const [, issued, revoked] = await db.batch([rotate, issue, revokeOnReuse])

  const user = rawRows<RefreshedUser>(issued)[0]
  if (user) return { ok: true, token: next.secret, user }
  return { ok: false, revokedFamily: revoked[0]?.familyId }
}

/** Logout: the presented token's whole family, so every token of that sign-in stops working. */
export async function revokeFamilyOf(db: Database, token: string) {
  const hash = await hashSecret(token)
  return db
    .update(refreshTokens)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        isNull(refreshTokens.revokedAt),
        inArray(
          refreshTokens.familyId,
          db
            .select({ familyId: presented.familyId })
            .from(presented)
            .where(eq(presented.tokenHash, hash)),
        ),
      ),
    )
    .returning({ id: refreshTokens.id })
}
