import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm'
import { actorGuard, actorReader, roleTooLow, staleSession } from '../auth/actor-guard'
import { requireStaff, staffOf } from '../auth/middleware'
import type { StaffPrincipal } from '../auth/principal'
import { minimumToGrant, roleAtLeast, type StaffRole } from '../auth/roles'
import { RoleSchema } from '../auth/views'
import { refreshTokens, staffRoles, users } from '../db/schema'
import { postgresError } from '../platform/database'
import { ApiError, notFound } from '../platform/errors'
import { createRouter } from '../platform/hono'
import {
  jsonBody,
  jsonResponse,
  missingOnBadPath,
  problems,
  staffSecurity,
  uuidParam,
} from '../platform/openapi'
import {
  afterCreated,
  createdKeys,
  decodeCursor,
  pageOf,
  PageQuery,
  takePage,
  timestampKey,
} from '../platform/pagination'
import { UserView, userView } from './views'

const UserParams = z.object({ id: uuidParam('id') })

const RoleChange = z.strictObject({ role: RoleSchema }).openapi('RoleChange')

const listUsers = createRoute({
  method: 'get',
  path: '/v1/users',
  tags: ['Staff'],
  summary: 'Staff of the caller’s organization (removed users are left out)',
  security: staffSecurity,
  middleware: [requireStaff('member')] as const,
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(pageOf(UserView).openapi('UserPage'), 'One page, oldest first'),
    ...problems(400, 401),
  },
})

const changeRole = createRoute({
  method: 'patch',
  path: '/v1/users/{id}',
  tags: ['Staff'],
  summary: 'Change a user’s role',
  description:
    'Managers and above manage users ranked at or below themselves and grant roles up to ' +
    'their own (only owners make owners). Nobody changes their own role. The user’s ' +
    'sessions lose sensitive access at once and carry the new role after their next refresh.',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: UserParams, body: jsonBody(RoleChange) },
  responses: {
    200: jsonResponse(UserView, 'The user with the new role'),
    ...problems(400, 401, 403, 404, 409),
  },
})

const removeUser = createRoute({
  method: 'delete',
  path: '/v1/users/{id}',
  tags: ['Staff'],
  summary: 'Remove a user from the organization',
  description:
    'Same rank rule as role changes. The user’s refresh tokens are revoked and every ' +
    'sensitive route refuses their access tokens at once.',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: UserParams },
  responses: { 204: { description: 'Removed' }, ...problems(401, 403, 404, 409) },
})

/** Roles a manager of rank `role` may manage: their own and below. */
const rolesAtMost = (role: StaffRole) =>
  staffRoles.filter((candidate) => roleAtLeast(role, candidate))

const activeUserOf = (staff: StaffPrincipal, id: string) =>
  and(eq(users.id, id), eq(users.organizationId, staff.organizationId), isNull(users.removedAt))

/**
 * Explains why a guarded change of user `id` matched nothing. The guard's check passed, so
 * the stored role equals the token's (any role change bumps the version the guard checks).
 */
function refusal(
  staff: StaffPrincipal,
  id: string,
  target: { role: StaffRole } | undefined,
  verb: string,
) {
  if (!target) return notFound('user')
  if (id === staff.userId) {
    return new ApiError('conflict', { detail: `You cannot ${verb} yourself.` })
  }
  if (!roleAtLeast(staff.role, target.role)) {
    return new ApiError('forbidden', { detail: `You cannot ${verb} a user ranked above you.` })
  }
  // The check passed but the write's own guard did not: the caller changed in between.
  return staleSession()
}

// Two managers changing each other at the same moment deadlock on the row locks; Postgres
// aborts one, which is then a plain conflict to retry, not a server error.
function conflictOnDeadlock(error: unknown): never {
  if (postgresError(error)?.code === '40P01') {
    throw new ApiError('conflict', {
      detail: 'A concurrent change conflicted; retry.',
      cause: error,
    })
  }
  throw error
}

export const userRoutes = createRouter()
  .openapi(listUsers, async (c) => {
    const { limit, cursor } = c.req.valid('query')
    const staff = staffOf(c)
    const after = decodeCursor(cursor, createdKeys)

    const reader = actorReader(staff)
    const rows = await c.var.db
      .select({
        standing: reader.columns,
        user: {
          id: users.id,
          email: users.email,
          name: users.name,
          role: users.role,
          createdAt: users.createdAt,
        },
        key: timestampKey(users.createdAt),
      })
      .from(reader.actor)
      .leftJoin(
        users,
        and(
          reader.holds,
          eq(users.organizationId, staff.organizationId),
          isNull(users.removedAt),
          afterCreated(users.createdAt, users.id, after),
        ),
      )
      .where(reader.identifies)
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(limit + 1)
    reader.assert(rows)

    const found = rows.flatMap((row) => (row.user ? [{ ...row.user, key: row.key }] : []))
    const page = takePage(found, limit, (row) => [row.key, row.id])
    return c.json({ data: page.data.map(userView), nextCursor: page.nextCursor }, 200)
  })
  .openapi(
    changeRole,
    async (c) => {
      const { id } = c.req.valid('param')
      const { role } = c.req.valid('json')
      const staff = staffOf(c)
      const { db, log } = c.var
      const minimum = minimumToGrant(role)
      if (!roleAtLeast(staff.role, minimum)) throw roleTooLow(minimum)

      const guard = actorGuard(db, staff, minimum)
      const [actor, target, updated] = await db
        .batch([
          guard.check,
          db.select({ role: users.role }).from(users).where(activeUserOf(staff, id)),
          db
            .update(users)
            .set({ role, authVersion: sql`${users.authVersion} + 1`, updatedAt: sql`now()` })
            .where(
              and(
                activeUserOf(staff, id),
                ne(users.id, staff.userId),
                inArray(users.role, rolesAtMost(staff.role)),
                guard.holds,
              ),
            )
            .returning({
              id: users.id,
              email: users.email,
              name: users.name,
              role: users.role,
              createdAt: users.createdAt,
            }),
        ])
        .catch(conflictOnDeadlock)

      const user = updated[0]
      if (!user) {
        guard.assert(actor)
        throw refusal(staff, id, target[0], 'change the role of')
      }

      log.info('user role changed', { userId: user.id, role: user.role })
      return c.json(userView(user), 200)
    },
    missingOnBadPath('user'),
  )
  .openapi(
    removeUser,
    async (c) => {
      const { id } = c.req.valid('param')
      const staff = staffOf(c)
      const { db, log } = c.var

      const guard = actorGuard(db, staff, 'manager')
      const [actor, target, removed] = await db
        .batch([
          guard.check,
          db.select({ role: users.role }).from(users).where(activeUserOf(staff, id)),
          db
            .update(users)
            .set({
              removedAt: sql`now()`,
              authVersion: sql`${users.authVersion} + 1`,
              updatedAt: sql`now()`,
            })
            .where(
              and(
                activeUserOf(staff, id),
                ne(users.id, staff.userId),
                inArray(users.role, rolesAtMost(staff.role)),
                guard.holds,
              ),
            )
            .returning({ id: users.id }),
          // Runs after the removal in the same transaction: only a user removed just now (or
          // earlier) has tokens revoked, never one the guard kept.
          db
            .update(refreshTokens)
            .set({ revokedAt: sql`now()` })
            .where(
              and(
                eq(refreshTokens.userId, id),
                eq(refreshTokens.organizationId, staff.organizationId),
                isNull(refreshTokens.revokedAt),
                inArray(
                  refreshTokens.userId,
                  db
                    .select({ id: users.id })
                    .from(users)
                    .where(and(eq(users.id, id), isNotNull(users.removedAt))),
                ),
              ),
            ),
        ])
        .catch(conflictOnDeadlock)

      if (!removed[0]) {
        guard.assert(actor)
        throw refusal(staff, id, target[0], 'remove')
      }

      log.info('user removed', { userId: id })
      return c.body(null, 204)
    },
    missingOnBadPath('user'),
  )

