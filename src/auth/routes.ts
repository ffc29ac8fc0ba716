import { createRoute, z } from '@hono/zod-openapi'
import { and, eq, isNull, sql } from 'drizzle-orm'
import { organizations, users } from '../db/schema'
import { isUniqueViolation } from '../platform/database'
import { ApiError } from '../platform/errors'
import { createRouter } from '../platform/hono'
import {
  jsonBody,
  jsonResponse,
  noSecurity,
  problems,
  staffSecurity,
} from '../platform/openapi'
import { staleSession } from './actor-guard'
import { requireStaff, staffOf } from './middleware'
import { hashPassword, verifyPassword } from './passwords'
import { issueRefreshToken, revokeFamilyOf, rotateRefreshToken } from './refresh-tokens'
import { secretPattern } from './secrets'
import {
  EmailInput,
  LoginPasswordInput,
  MeView,
  NameInput,
  PasswordInput,
  SlugInput,
  StaffSessionView,
  meOf,
  staffSession,
} from './views'

const SignupBody = z
  .strictObject({
    organization: z.strictObject({ name: NameInput, slug: SlugInput }),
    owner: z.strictObject({ name: NameInput, email: EmailInput, password: PasswordInput }),
  })
  .openapi('SignupRequest')

const LoginBody = z
  .strictObject({
    organization: SlugInput,
    email: EmailInput,
    password: LoginPasswordInput,
  })
  .openapi('LoginRequest')

const RefreshBody = z
  .strictObject({ refreshToken: z.string().regex(secretPattern('refresh'), 'not a refresh token') })
  .openapi('RefreshRequest')

const signup = createRoute({
  method: 'post',
  path: '/v1/auth/signup',
  tags: ['Auth'],
  summary: 'Create an organization and its owner, and sign the owner in',
  security: noSecurity,
  request: { body: jsonBody(SignupBody) },
  responses: {
    201: jsonResponse(StaffSessionView, 'Organization created; the owner is signed in'),
    ...problems(400, 409, 413, 415),
  },
})

const login = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  tags: ['Auth'],
  summary: 'Sign in with organization slug, email and password',
  description:
    'An unknown organization, an unknown email and a wrong password get the same 401, after ' +
    'the same password-hashing work, so the answer reveals no account.',
  security: noSecurity,
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonResponse(StaffSessionView, 'Signed in'),
    ...problems(400, 401, 413, 415),
  },
})

const refresh = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  tags: ['Auth'],
  summary: 'Trade a refresh token for a new access token and a new refresh token',
  description:
    'Refresh tokens are single use. Presenting one that was already used revokes every token ' +
    'of that sign-in, except within REFRESH_REUSE_GRACE_SECONDS of its first use, so two tabs ' +
    'refreshing at once both succeed. Role and version come from the stored user.',
  security: noSecurity,
  request: { body: jsonBody(RefreshBody) },
  responses: {
    200: jsonResponse(StaffSessionView, 'New token pair'),
    ...problems(400, 401, 413, 415),
  },
})

const logout = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  tags: ['Auth'],
  summary: 'Revoke the refresh token and every other token of its sign-in',
  description:
    'Answers 204 whether or not the token was live. Access tokens already issued expire on ' +
    'their own (ACCESS_TOKEN_TTL_SECONDS).',
  security: noSecurity,
  request: { body: jsonBody(RefreshBody) },
  responses: { 204: { description: 'Signed out' }, ...problems(400, 413, 415) },
})

const me = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['Auth'],
  summary: 'The signed-in staff user, as stored now',
  security: staffSecurity,
  middleware: [requireStaff()] as const,
  responses: { 200: jsonResponse(MeView, 'The caller'), ...problems(401) },
})

const wrongCredentials = () =>
  new ApiError('unauthorized', { detail: 'The organization, email or password is incorrect.' })

const invalidRefreshToken = () =>
  new ApiError('unauthorized', { detail: 'The refresh token is not valid.' })

const sessionUserColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  authVersion: users.authVersion,
  organizationId: organizations.id,
  organizationName: organizations.name,
  organizationSlug: organizations.slug,
}

export const authRoutes = createRouter()
  .openapi(signup, async (c) => {
    const { organization, owner } = c.req.valid('json')
    const { db, config, log } = c.var

    const passwordHash = await hashPassword(owner.password)
    const organizationId = crypto.randomUUID()
    const userId = crypto.randomUUID()
    const refreshToken = await issueRefreshToken(db, config, { userId, organizationId })

    const created = await db
      .batch([
        db.insert(organizations).values({ id: organizationId, ...organization }),
        db
          .insert(users)
          .values({
            id: userId,
            organizationId,
            email: owner.email,
            name: owner.name,
            role: 'owner',
            passwordHash,
          })
          .returning({ authVersion: users.authVersion }),
        refreshToken.insert,
      ])
      .catch((error: unknown) => {
        if (isUniqueViolation(error, 'organizations_slug_key')) {
          throw new ApiError('conflict', { detail: 'That organization slug is taken.' })
        }
        throw error
      })

    const authVersion = created[1][0]?.authVersion ?? 1
    log.info('organization created', { organizationId, userId })
    const user = {
      id: userId,
      email: owner.email,
      name: owner.name,
      role: 'owner' as const,
      authVersion,
      organizationId,
      organizationName: organization.name,
      organizationSlug: organization.slug,
    }
    return c.json(await staffSession(config, user, refreshToken.token), 201)
  })
  .openapi(login, async (c) => {
    const { organization, email, password } = c.req.valid('json')
    const { db, config } = c.var

    const [account] = await db
      .select({ ...sessionUserColumns, passwordHash: users.passwordHash })
      .from(users)
      .innerJoin(organizations, eq(organizations.id, users.organizationId))
      .where(
        and(eq(organizations.slug, organization), eq(users.email, email), isNull(users.removedAt)),
      )
      .limit(1)

    // Runs a full derivation even when there is no account, so timing reveals nothing.
    const check = await verifyPassword(password, account?.passwordHash)
    if (!account || !check.ok) throw wrongCredentials()

    // The password can only be checked between the read and the write, so a successful
    // login costs two round trips: the read above and this one batch.
    const refreshToken = await issueRefreshToken(db, config, {
      userId: account.id,
      organizationId: account.organizationId,
    })
    if (check.needsRehash && account.passwordHash) {
      const rehash = db
        .update(users)
        .set({ passwordHash: await hashPassword(password), updatedAt: sql`now()` })
        .where(and(eq(users.id, account.id), eq(users.passwordHash, account.passwordHash)))
      await db.batch([refreshToken.insert, rehash])
    } else {
      await refreshToken.insert
    }

    return c.json(await staffSession(config, account, refreshToken.token), 200)
  })
  .openapi(refresh, async (c) => {
    const { refreshToken } = c.req.valid('json')
    const { db, config, log } = c.var

    const rotation = await rotateRefreshToken(db, config, refreshToken)
    if (!rotation.ok) {
      if (rotation.revokedFamily) {
        log.warn('refresh token reused; sign-in revoked', { familyId: rotation.revokedFamily })
      }
      throw invalidRefreshToken()
    }

    return c.json(await staffSession(config, rotation.user, rotation.token), 200)
  })
  .openapi(logout, async (c) => {
    const { refreshToken } = c.req.valid('json')

    await revokeFamilyOf(c.var.db, refreshToken)

    return c.body(null, 204)
  })
  .openapi(me, async (c) => {
    const staff = staffOf(c)

    const [user] = await c.var.db
      .select(sessionUserColumns)
      .from(users)
      .innerJoin(organizations, eq(organizations.id, users.organizationId))
      .where(
        and(
          eq(users.id, staff.userId),
          eq(users.organizationId, staff.organizationId),
          isNull(users.removedAt),
          eq(users.authVersion, staff.authVersion),
        ),
      )
    if (!user) throw staleSession()

    return c.json(meOf({ ...user, authVersion: staff.authVersion }), 200)
  })
