import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, isNull, type SQL, sql } from 'drizzle-orm'
import { actorGuard, actorReader } from '../auth/actor-guard'
import { requireStaff, staffOf } from '../auth/middleware'
import { keyScopeOf, type StaffPrincipal } from '../auth/principal'
import { newSecret } from '../auth/secrets'
import { EmailInput, NameInput } from '../auth/views'
import { clientContacts, clients, portalSessions, portalSignInLinks } from '../db/schema'
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
import { insertWhere, secondsFromNow } from '../platform/sql-helpers'
import { portalLinkUrl } from '../portal/links'
import { contactBody, contactColumns, ContactView, contactView } from './views'

const ClientParams = z.object({ id: uuidParam('id') })
const ContactParams = z.object({ clientId: uuidParam('clientId'), id: uuidParam('id') })

const ContactBody = z
  .strictObject({
    email: EmailInput,
    name: NameInput,
    sendInvite: z
      .boolean()
      .default(true)
      .openapi({ description: 'Mail the contact a portal invitation with a sign-in link' }),
  })
  .openapi('ContactRequest')

const ContactPatch = z
  .strictObject({
    email: EmailInput.optional(),
    name: NameInput.optional(),
    disabled: z
      .boolean()
      .optional()
      .openapi({ description: 'Disabling ends portal access at once' }),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), 'name a field')
  .openapi('ContactPatch')

const listContacts = createRoute({
  method: 'get',
  path: '/v1/clients/{id}/contacts',
  tags: ['Clients'],
  summary: 'Contacts of a client',
  security: staffSecurity,
  middleware: [requireStaff('member')] as const,
  request: { params: ClientParams, query: PageQuery },
  responses: {
    200: jsonResponse(pageOf(ContactView).openapi('ContactPage'), 'One page, oldest first'),
    ...problems(400, 401, 404),
  },
})

const createContact = createRoute({
  method: 'post',
  path: '/v1/clients/{id}/contacts',
  tags: ['Clients'],
  summary: 'Invite a client contact to the portal (manager or above)',
  description:
    'Emails are unique per organization. Unless `sendInvite` is false, the contact is mailed ' +
    'a single-use sign-in link valid for PORTAL_LINK_TTL_SECONDS.',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: ClientParams, body: jsonBody(ContactBody), headers: IdempotencyHeader },
  responses: {
    201: jsonResponse(ContactView, 'Created (or replayed: `Idempotent-Replayed: true`)'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
})

const updateContact = createRoute({
  method: 'patch',
  path: '/v1/clients/{clientId}/contacts/{id}',
  tags: ['Clients'],
  summary: 'Change or disable a contact (manager or above)',
  description:
    'Disabling ends the contact’s portal sessions at once. A new email voids sign-in links ' +
    'sent to the old one.',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: ContactParams, body: jsonBody(ContactPatch) },
  responses: {
    200: jsonResponse(ContactView, 'Updated'),
    ...problems(400, 401, 403, 404, 409, 413, 415),
  },
})

const deleteContact = createRoute({
  method: 'delete',
  path: '/v1/clients/{clientId}/contacts/{id}',
  tags: ['Clients'],
  summary: 'Delete a contact and everything of their portal access (manager or above)',
  security: staffSecurity,
  middleware: [requireStaff('manager')] as const,
  request: { params: ContactParams },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404) },
})

const liveClient = (staff: StaffPrincipal, clientId: string) =>
  sql`exists (select 1 from ${clients}
    where ${clients.id} = ${clientId}::uuid
      and ${clients.organizationId} = ${staff.organizationId}::uuid
      and ${clients.deletedAt} is null)`

const contactOf = (staff: StaffPrincipal, clientId: string, id: string): SQL =>
  and(
    eq(clientContacts.id, id),
    eq(clientContacts.clientId, clientId),
    eq(clientContacts.organizationId, staff.organizationId),
    liveClient(staff, clientId),
  ) ?? sql`false`

const emailTaken = (error: unknown): never => {
  if (isUniqueViolation(error, 'client_contacts_organization_email_key')) {
    throw new ApiError('conflict', { detail: 'A contact with this email already exists.' })
  }
  throw error
}

function portalInvitationMail(
  config: Config,
  staff: StaffPrincipal,
  to: string,
  token: string,
): Mail {
  return {
    kind: 'portal_invitation',
    to,
    organizationId: staff.organizationId,
    subject: 'Your audit team invited you to the CurrentMesh client portal',
    text:
      'Your auditors use CurrentMesh to request documents. Sign in to the client portal:\n' +
      `${portalLinkUrl(config, token)}\n\n` +
      `The link works once and expires in ${Math.round(config.PORTAL_LINK_TTL_SECONDS / 60)} ` +
      'minutes. Afterwards, ask for a new link on the portal with this email address.',
  }
}

export const contactRoutes = createRouter()
  .openapi(
    listContacts,
    async (c) => {
      const { id } = c.req.valid('param')
      const { limit, cursor } = c.req.valid('query')
      const staff = staffOf(c)
      const after = decodeCursor(cursor, createdKeys)

      // From the caller's stored row, then the client, then its contacts: a refusal (no
      // client either), a missing client (no client) and a client without contacts (no
      // contact) differ in the same query.
      const reader = actorReader(staff)
      const rows = await c.var.db
        .select({
          standing: reader.columns,
          clientId: clients.id,
          contact: contactColumns,
          key: timestampKey(clientContacts.createdAt),
        })
        .from(reader.actor)
        .leftJoin(
          clients,
          and(
            reader.holds,
            eq(clients.id, id),
            eq(clients.organizationId, staff.organizationId),
            isNull(clients.deletedAt),
          ),
        )
        .leftJoin(
          clientContacts,
          and(
            eq(clientContacts.clientId, clients.id),
            afterCreated(clientContacts.createdAt, clientContacts.id, after),
          ),
        )
        .where(reader.identifies)
        .orderBy(asc(clientContacts.createdAt), asc(clientContacts.id))
        .limit(limit + 1)
      reader.assert(rows)
      if (!rows[0]?.clientId) throw notFound('client')

      const contacts = rows.flatMap((row) =>
        row.contact ? [{ ...row.contact, key: row.key }] : [],
      )
      const page = takePage(contacts, limit, (row) => [row.key, row.id])
      return c.json({ data: page.data.map(contactView), nextCursor: page.nextCursor }, 200)
    },
    missingOnBadPath('client'),
  )
  .openapi(
    createContact,
    async (c) => {
      const { id: clientId } = c.req.valid('param')
      const input = c.req.valid('json')
      const { email, name, sendInvite } = input
      const staff = staffOf(c)
      const { db, config, mailer, log } = c.var
      const org = staff.organizationId
      const key = await idempotencyKeyOf(c, keyScopeOf(staff), JSON.stringify(input))

      const guard = actorGuard(db, staff, 'manager')
      const contactId = crypto.randomUUID()
      const link = await newSecret('portalLink')
      const mail = portalInvitationMail(config, staff, email, link.secret)
      const body = contactBody(org, contactId)
      // Only a contact created by this request gets a link and a mail (never on a replay).
      const contactExists = sql`${body} is not null`
      const invitation = sendInvite
        ? [
            insertWhere(
              db,
              portalSignInLinks,
              {
                organizationId: org,
                contactId,
                tokenHash: link.hash,
                expiresAt: secondsFromNow(config.PORTAL_LINK_TTL_SECONDS),
              },
              contactExists,
            ).getSQL(),
            ...mailer.stage(mail, contactExists),
          ]
        : []

      const result = await executeWrite<{ standing: unknown; body: unknown }>(db, {
        key,
        allowed: guard.holds,
        change: (gate) => [
          insertWhere(
            db,
            clientContacts,
            { id: contactId, organizationId: org, clientId, email, name },
            sql`${gate} and ${liveClient(staff, clientId)}`,
          ).getSQL(),
          ...invitation,
        ],
        done: contactExists,
        response: { status: 201, body },
        outcome: sql`select ${guard.standing} as standing, ${body} as body`,
      }).catch(emailTaken)
      if (result.replay) {
        return c.json(ContactView.parse(result.replay.body), 201, replayedHeaders)
      }

      const { outcome } = result
      if (outcome.body === null) {
        guard.assertStanding(outcome.standing)
        throw notFound('client')
      }

      if (sendInvite) deliverAfterResponse(c, mail)
      log.info('client contact created', { clientId, contactId, invited: sendInvite })
      return c.json(ContactView.parse(outcome.body), 201)
    },
    missingOnBadPath('client'),
  )
  .openapi(
    updateContact,
    async (c) => {
      const { clientId, id } = c.req.valid('param')
      const { disabled, ...fields } = c.req.valid('json')
      const staff = staffOf(c)
      const { db } = c.var

      const guard = actorGuard(db, staff, 'manager')
      const changed = sql`exists (select 1 from ${clientContacts}
        where ${contactOf(staff, clientId, id)} and ${guard.holds})`
      const disabledAt = disabled === undefined ? {} : { disabledAt: disabled ? sql`now()` : null }

      const [actor, updated] = await db
        .batch([
          guard.check,
          db
            .update(clientContacts)
            .set({ ...fields, ...disabledAt, updatedAt: sql`now()` })
            .where(and(contactOf(staff, clientId, id), guard.holds))
            .returning(contactColumns),
          // Disabling already ends access through the session check; revoking says so in the
          // rows too. A new email voids links mailed to the old address.
          ...(disabled === true
            ? [
                db
                  .update(portalSessions)
                  .set({ revokedAt: sql`now()` })
                  .where(
                    and(
                      eq(portalSessions.contactId, id),
                      isNull(portalSessions.revokedAt),
                      changed,
                    ),
                  ),
              ]
            : []),
          ...(fields.email === undefined
            ? []
            : [
                db
                  .delete(portalSignInLinks)
                  .where(
                    and(
                      eq(portalSignInLinks.contactId, id),
                      isNull(portalSignInLinks.consumedAt),
                      changed,
                    ),
                  ),
              ]),
        ])
        .catch(emailTaken)

      const contact = updated[0]
      if (!contact) {
        guard.assert(actor)
        throw notFound('contact')
      }

      return c.json(contactView(contact), 200)
    },
    missingOnBadPath('contact'),
  )
  .openapi(
    deleteContact,
    async (c) => {
      const { clientId, id } = c.req.valid('param')
      const staff = staffOf(c)
      const { db, log } = c.var

      const guard = actorGuard(db, staff, 'manager')
      // Sign-in links and portal sessions go with the row (ON DELETE CASCADE).
      const [actor, deleted] = await db.batch([
        guard.check,
        db
          .delete(clientContacts)
          .where(and(contactOf(staff, clientId, id), guard.holds))
          .returning({ id: clientContacts.id }),
      ])

      if (!deleted[0]) {
        guard.assert(actor)
        throw notFound('contact')
      }

      log.info('client contact deleted', { clientId, contactId: id })
      return c.body(null, 204)
    },
    missingOnBadPath('contact'),
  )
