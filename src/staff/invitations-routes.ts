import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, exists, inArray, isNull, lte, sql } from 'drizzle-orm'
import { actorGuard, actorReader, roleTooLow } from '../auth/actor-guard'
import { requireStaff, staffOf } from '../auth/middleware'
import { keyScopeOf, type StaffPrincipal } from '../auth/principal'
import { minimumToGrant, roleAtLeast, type StaffRole } from '../auth/roles'
import { hashPassword } from '../auth/passwords'
import { hashSecret, newSecret, secretPattern } from '../auth/secrets'
import {
  EmailInput,
  NameInput,
  PasswordInput,
  RoleSchema,
  StaffSessionView,
  staffSession,
  type SessionUser,
} from '../auth/views'
import { invitations, organizations, refreshTokens, staffRoles, users } from '../db/schema'
import { deliverAfterResponse, type Mail } from '../email/mailer'
import type { Config } from '../env'
import { isUniqueViolation } from '../platform/database'
import { ApiError, notFound } from '../platform/errors'
import { createRouter } from '../platform/hono'
import {
  executeWrite,
  IdempotencyHeader,
  idempotencyKeyOf,
  replayedHeaders,
} from '../platform/idempotency'
import {
  jsonBody,
  jsonResponse,
  missingOnBadPath,
  noSecurity,
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
import { insertWhere, rawRows, secondsFromNow } from '../platform/sql-helpers'
import { invitationBody, InvitationView } from './views'

const InvitationParams = z.object({ id: uuidParam('id') })

const InviteBody = z
  .strictObject({ email: EmailInput, name: NameInput.optional(), role: RoleSchema })
  .openapi('InvitationRequest')

const AcceptBody = z
  .strictObject({
    token: z.string().regex(secretPattern('invitation'), 'not an invitation token'),
    password: PasswordInput,
    name: NameInput.optional().openapi({ description: 'Defaults to the name on the invitation' }),
  })
  .openapi('InvitationAcceptance')

const listInvitations = createRoute({
  method: 'get',
  path: '/v1/invitations',
  tags: ['Staff'],
  summary: 'Invitations not yet accepted or revoked',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(pageOf(InvitationView).openapi('InvitationPage'), 'One page, oldest first'),
    ...problems(400, 401, 403),
  },
})

const invite = createRoute({
  method: 'post',
  path: '/v1/invitations',
  tags: ['Staff'],
  summary: 'Invite someone to the staff by email',
  description:
    'Mails a single-use link that expires after INVITATION_TTL_SECONDS. Managers invite ' +
    'managers and members, admins up to admin, owners any role. An expired invitation for ' +
    'the same email is replaced; a live one answers 409.',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { body: jsonBody(InviteBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(
      InvitationView,
      'Invitation created and mailed (or replayed: `Idempotent-Replayed: true`)',
    ),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
})

const revokeInvitation = createRoute({
  method: 'delete',
  path: '/v1/invitations/{id}',
  tags: ['Staff'],
  summary: 'Revoke a pending invitation',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: InvitationParams },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
})

const acceptInvitation = createRoute({
  method: 'post',
  path: '/v1/invitations/accept',
  tags: ['Staff'],
  summary: 'Accept an invitation: set a password and sign in',
  description:
    'Consumes the token once. A user removed earlier with the same email comes back with ' +
    'the invited role and the new password.',
  security: noSecurity,
  request: { body: jsonBody(AcceptBody) },
  responses: {
    201: jsonResponse(StaffSessionView, 'Joined; signed in'),
    ...problems(400, 401, 413, 415),
  },
})

const invitationColumns = {
  id: invitations.id,
  email: invitations.email,
  name: invitations.name,
  role: invitations.role,
  invitedBy: invitations.invitedBy,
  expiresAt: invitations.expiresAt,
  createdAt: invitations.createdAt,
  expired: sql<boolean>`${invitations.expiresAt} <= now()`,
}

function invitationView(row: {
  id: string
  email: string
  name: string | null
  role: StaffRole
  invitedBy: string | null
  expiresAt: Date
  createdAt: Date
  expired: boolean
}): z.infer<typeof InvitationView> {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.expired ? 'expired' : 'pending',
    invitedBy: row.invitedBy,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  }
}

const pendingIn = (staff: StaffPrincipal) =>
  and(
    eq(invitations.organizationId, staff.organizationId),
    isNull(invitations.acceptedAt),
    isNull(invitations.revokedAt),
  )

const activeMember = (staff: StaffPrincipal, email: string) =>
  and(
    eq(users.organizationId, staff.organizationId),
    eq(users.email, email),
    isNull(users.removedAt),
  )

function invitationMail(
  config: Config,
  staff: StaffPrincipal,
  to: string,
  role: StaffRole,
  token: string,
): Mail {
  const link = `${config.APP_BASE_URL}/accept-invitation#token=${token}`
  return {
    kind: 'staff_invitation',
    to,
    organizationId: staff.organizationId,
    subject: 'You are invited to join your team on CurrentMesh',
    text:
      `You have been invited to CurrentMesh as ${role}.\n\n` +
      `Accept the invitation and choose a password:\n${link}\n\n` +
      `The link works once and expires in ${Math.round(config.INVITATION_TTL_SECONDS / 3600)} ` +
      'hours.',
  }
}

const invalidInvitation = () =>
  new ApiError('unauthorized', {
    detail: 'The invitation is not valid, has expired or was already used.',
  })

export const invitationRoutes = createRouter()
  .openapi(listInvitations, async (c) => {
    const { limit, cursor } = c.req.valid('query')
    const staff = staffOf(c)
    const after = decodeCursor(cursor, createdKeys)

    // A demoted manager's token still says manager: the stored role decides.
    const reader = actorReader(staff, 'manager')
    const rows = await c.var.db
      .select({
        standing: reader.columns,
        invitation: invitationColumns,
        key: timestampKey(invitations.createdAt),
      })
      .from(reader.actor)
      .leftJoin(
        invitations,
        and(
          reader.holds,
          pendingIn(staff),
          afterCreated(invitations.createdAt, invitations.id, after),
        ),
      )
      .where(reader.identifies)
      .orderBy(asc(invitations.createdAt), asc(invitations.id))
      .limit(limit + 1)
    reader.assert(rows)

    const found = rows.flatMap((row) =>
      row.invitation ? [{ ...row.invitation, key: row.key }] : [],
    )
    const page = takePage(found, limit, (row) => [row.key, row.id])
    return c.json({ data: page.data.map(invitationView), nextCursor: page.nextCursor }, 200)
  })
  .openapi(invite, async (c) => {
    const input = c.req.valid('json')
    const { email, name, role } = input
    const staff = staffOf(c)
    const { db, config, mailer, log } = c.var
    const minimum = minimumToGrant(role)
    if (!roleAtLeast(staff.role, minimum)) throw roleTooLow(minimum)
    const key = await idempotencyKeyOf(c, keyScopeOf(staff), JSON.stringify(input))

    const { secret, hash } = await newSecret('invitation')
    const guard = actorGuard(db, staff, minimum)
    const mail = invitationMail(config, staff, email, role, secret)
    const id = crypto.randomUUID()
    const body = invitationBody(staff.organizationId, id)
    const notMember = sql`not exists (select 1 from ${users} where ${activeMember(staff, email)})`
    // Only an invitation created by this request is mailed (never on a replay).
    const created = sql`${body} is not null`

    const result = await executeWrite<{ standing: unknown; body: unknown }>(db, {
      key,
      allowed: guard.holds,
      change: (gate) => [
        // An expired invitation would hold the one-pending-per-email index forever.
        db
          .update(invitations)
          .set({ revokedAt: sql`now()`, updatedAt: sql`now()` })
          .where(
            and(
              pendingIn(staff),
              eq(invitations.email, email),
              lte(invitations.expiresAt, sql`now()`),
              gate,
            ),
          )
          .getSQL(),
        insertWhere(
          db,
          invitations,
          {
            id,
            organizationId: staff.organizationId,
            email,
            name: name ?? null,
            role,
            tokenHash: hash,
            invitedBy: staff.userId,
            expiresAt: secondsFromNow(config.INVITATION_TTL_SECONDS),
          },
          sql`${gate} and ${notMember}`,
        ).getSQL(),
        ...mailer.stage(mail, created),
      ],
      done: created,
      response: { status: 201, body },
      outcome: sql`select ${guard.standing} as standing, ${body} as body`,
    }).catch((error: unknown) => {
      if (isUniqueViolation(error, 'invitations_pending_email_key')) {
        throw new ApiError('conflict', { detail: 'An invitation for this email is pending.' })
      }
      throw error
    })
    if (result.replay) {
      return c.json(InvitationView.parse(result.replay.body), 201, replayedHeaders)
    }

    const { outcome } = result
    if (outcome.body === null) {
      guard.assertStanding(outcome.standing)
      // The actor may act, so what failed is the other condition: the email is a member's.
      throw new ApiError('conflict', { detail: 'This email already belongs to a member.' })
    }

    deliverAfterResponse(c, mail)
    log.info('invitation created', { invitationId: id, role })
    return c.json(InvitationView.parse(outcome.body), 201)
  })
  .openapi(
    revokeInvitation,
    async (c) => {
      const { id } = c.req.valid('param')
      const staff = staffOf(c)
      const { db } = c.var

      const guard = actorGuard(db, staff, 'manager')
      const [actor, existing, revoked] = await db.batch([
        guard.check,
        db
          .select({ role: invitations.role })
          .from(invitations)
          .where(and(eq(invitations.id, id), pendingIn(staff))),
        db
          .update(invitations)
          .set({ revokedAt: sql`now()`, updatedAt: sql`now()` })
          .where(
            and(
              eq(invitations.id, id),
              pendingIn(staff),
              inArray(
                invitations.role,
                staffRoles.filter((role) => roleAtLeast(staff.role, role)),
              ),
              guard.holds,
            ),
          )
          .returning({ id: invitations.id }),
      ])

      if (!revoked[0]) {
        guard.assert(actor)
        const pending = existing[0]
        if (!pending) throw notFound('invitation')
        throw roleTooLow(minimumToGrant(pending.role))
      }

      return c.body(null, 204)
    },
    missingOnBadPath('invitation'),
  )
  .openapi(acceptInvitation, async (c) => {
    const { token, password, name } = c.req.valid('json')
    const { db, config, log } = c.var

    const [hash, passwordHash, refresh] = await Promise.all([
      hashSecret(token),
      hashPassword(password),
      newSecret('refresh'),
    ])

    // One statement: consume the invitation, create (or bring back) the user, start a
    // sign-in. The UPDATE's row lock makes a second concurrent acceptance match nothing.
    const result = await db.execute(sql`
      with accepted as (
        update ${invitations} i
        set accepted_at = now(), updated_at = now()
        where i.token_hash = ${hash}
          and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
          and not exists (
            select 1 from ${users} u
            where u.organization_id = i.organization_id and u.email = i.email
              and u.removed_at is null)
        returning i.organization_id, i.email, i.name, i.role
      ),
      joined as (
        insert into ${users} as u (organization_id, email, name, role, password_hash)
        select organization_id, email,
          coalesce(${name ?? null}::text, name, split_part(email, '@', 1)), role, ${passwordHash}
        from accepted
        on conflict (organization_id, email) do update
          set name = excluded.name, role = excluded.role, password_hash = excluded.password_hash,
            removed_at = null, auth_version = u.auth_version + 1, updated_at = now()
          where u.removed_at is not null
        returning u.id, u.organization_id, u.email, u.name, u.role, u.auth_version
      ),
      signed_in as (
        insert into ${refreshTokens} (organization_id, user_id, family_id, token_hash, expires_at)
        select organization_id, id, gen_random_uuid(), ${refresh.hash},
          ${secondsFromNow(config.REFRESH_TOKEN_TTL_SECONDS)}
        from joined
        returning user_id
      )
      select j.id, j.email, j.name, j.role, j.auth_version as "authVersion",
        o.id as "organizationId", o.name as "organizationName", o.slug as "organizationSlug"
      from joined j
      join signed_in s on s.user_id = j.id
      join ${organizations} o on o.id = j.organization_id`)

    const user = rawRows<SessionUser>(result)[0]
    if (!user) throw invalidInvitation()

    log.info('invitation accepted', { userId: user.id, organizationId: user.organizationId })
    return c.json(await staffSession(config, user, refresh.secret), 201)
  })
