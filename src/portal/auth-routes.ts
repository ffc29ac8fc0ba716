import { createRoute, z } from '@hono/zod-openapi'
import { and, eq, sql } from 'drizzle-orm'
import { portalOf, requirePortal } from '../auth/middleware'
import { hashSecret, newSecret, secretPattern } from '../auth/secrets'
import { signPortalToken } from '../auth/tokens'
import { EmailInput, SlugInput } from '../auth/views'
import {
  clientContacts,
  clients,
  organizations,
  portalSessions,
  portalSignInLinks,
} from '../db/schema'
import { deliverAfterResponse, type Mail } from '../email/mailer'
import type { Config } from '../env'
import { ApiError, notFound } from '../platform/errors'
import { createRouter } from '../platform/hono'
import {
  jsonBody,
  jsonResponse,
  noSecurity,
  portalSecurity,
  problems,
  timestamp,
} from '../platform/openapi'
import { isoTimestamp, rawRows, secondsFromNow } from '../platform/sql-helpers'
import { portalLinkUrl } from './links'
import { portalSessionEnded, portalSessionHolds } from './session-guard'

const LinkRequest = z
  .strictObject({
    organization: SlugInput,
    email: EmailInput,
  })
  .openapi('PortalLinkRequest')

const LinkToken = z
  .string()
  .regex(secretPattern('portalLink'), 'not a sign-in token')
  .openapi({ description: 'The token from the mail link’s fragment (`#token=cml_…`)' })

const InspectRequest = z.strictObject({ token: LinkToken }).openapi('PortalLinkInspection')

const SessionRequest = z.strictObject({ token: LinkToken }).openapi('PortalSessionRequest')

const Accepted = z.object({ message: z.string() }).openapi('PortalLinkAccepted')

const PortalParty = z.object({
  organization: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }),
  client: z.object({ id: z.uuid(), name: z.string() }),
  contact: z.object({ id: z.uuid(), name: z.string(), email: z.string() }),
})

const LinkView = PortalParty.extend({ expiresAt: timestamp() }).openapi('PortalSignInLink')

const PortalSessionView = PortalParty.extend({
  accessToken: z.string().openapi({ description: 'Portal JWT; valid only on /v1/portal routes' }),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
}).openapi('PortalSession')

const PortalMeView = PortalParty.extend({
  session: z.object({ id: z.uuid(), expiresAt: timestamp() }),
}).openapi('PortalMe')

const requestLink = createRoute({
  method: 'post',
  path: '/v1/portal/auth/links',
  tags: ['Portal'],
  summary: 'Mail a sign-in link to a client contact',
  description:
    'Always 202 with the same body, after the same work, whether or not the email belongs ' +
    'to a contact: the answer reveals nobody. The link works once and expires after ' +
    'PORTAL_LINK_TTL_SECONDS.',
  security: noSecurity,
  request: { body: jsonBody(LinkRequest) },
  responses: { 202: jsonResponse(Accepted, 'Accepted'), ...problems(400, 413, 415) },
})

const inspectLink = createRoute({
  method: 'post',
  path: '/v1/portal/auth/links/inspect',
  tags: ['Portal'],
  summary: 'What a sign-in link is for; does not use it up',
  description:
    'The token travels in the body, never in a URL, so no access log records it. Mail ' +
    'scanners open links, so inspecting changes nothing: signing in takes an explicit ' +
    'POST /v1/portal/auth/sessions. Unknown, used and expired links answer 404.',
  security: noSecurity,
  request: { body: jsonBody(InspectRequest) },
  responses: {
    200: jsonResponse(LinkView, 'The link is usable'),
    ...problems(400, 404, 413, 415),
  },
})

const startSession = createRoute({
  method: 'post',
  path: '/v1/portal/auth/sessions',
  tags: ['Portal'],
  summary: 'Use a sign-in link: consumes it and starts a portal session',
  security: noSecurity,
  request: { body: jsonBody(SessionRequest) },
  responses: {
    201: jsonResponse(PortalSessionView, 'Signed in to the portal'),
    ...problems(400, 401, 413, 415),
  },
})

const portalLogout = createRoute({
  method: 'post',
  path: '/v1/portal/auth/logout',
  tags: ['Portal'],
  summary: 'End the portal session',
  security: portalSecurity,
  middleware: [requirePortal()] as const,
  responses: { 204: { description: 'Signed out' }, ...problems(401) },
})

const portalMe = createRoute({
  method: 'get',
  path: '/v1/portal/me',
  tags: ['Portal'],
  summary: 'The signed-in contact, their client and firm',
  security: portalSecurity,
  middleware: [requirePortal()] as const,
  responses: { 200: jsonResponse(PortalMeView, 'The caller'), ...problems(401) },
})

const acceptedBody = {
  message: 'If this address belongs to a portal contact, a sign-in link is on its way.',
}

function signInMail(config: Config, to: string, token: string): Mail {
  return {
    kind: 'portal_sign_in',
    to,
    organizationId: null,
    subject: 'Your CurrentMesh sign-in link',
    text:
      `Sign in to the client portal:\n${portalLinkUrl(config, token)}\n\n` +
      `The link works once and expires in ${Math.round(config.PORTAL_LINK_TTL_SECONDS / 60)} ` +
      'minutes. If you did not ask for it, ignore this mail.',
  }
}

const partyColumns = sql`
  o.id as "organizationId", o.name as "organizationName", o.slug as "organizationSlug",
  cl.id as "clientId", cl.name as "clientName",
  ct.id as "contactId", ct.name as "contactName", ct.email as "contactEmail"`

interface PartyRow {
  organizationId: string
  organizationName: string
  organizationSlug: string
  clientId: string
  clientName: string
  contactId: string
  contactName: string
  contactEmail: string
}

const partyOf = (row: PartyRow) => ({
  organization: { id: row.organizationId, name: row.organizationName, slug: row.organizationSlug },
  client: { id: row.clientId, name: row.clientName },
  contact: { id: row.contactId, name: row.contactName, email: row.contactEmail },
})

const invalidLink = () =>
  new ApiError('unauthorized', {
    detail: 'The sign-in link is not valid, has expired or was already used.',
  })

export const portalAuthRoutes = createRouter()
  .openapi(requestLink, async (c) => {
    const { organization, email } = c.req.valid('json')
    const { db, config, mailer, log } = c.var

    // Known or not, the same token work and the same statements run; only rows differ.
    const link = await newSecret('portalLink')
    const mail = signInMail(config, email, link.secret)
    const expiresAt = secondsFromNow(config.PORTAL_LINK_TTL_SECONDS)
    const stored = sql`exists (select 1 from ${portalSignInLinks}
      where ${portalSignInLinks.tokenHash} = ${link.hash})`
    const [issued] = await db.batch([
      db.execute(sql`
        insert into ${portalSignInLinks} (organization_id, contact_id, token_hash, expires_at)
        select ct.organization_id, ct.id, ${link.hash}, ${expiresAt}
        from ${clientContacts} ct
        join ${organizations} o on o.id = ct.organization_id
        join ${clients} cl on cl.id = ct.client_id
        where o.slug = ${organization} and ct.email = ${email}
          and ct.disabled_at is null and cl.deleted_at is null
        returning id`),
      ...mailer.stage(mail, stored).map((statement) => db.execute(statement)),
    ])

    const linkId = rawRows<{ id: string }>(issued)[0]?.id
    if (linkId) {
      deliverAfterResponse(c, mail)
      log.info('portal sign-in link issued', { linkId })
    }
    return c.json(acceptedBody, 202)
  })
  .openapi(inspectLink, async (c) => {
    const { token } = c.req.valid('json')
    const { db } = c.var

    const hash = await hashSecret(token)
    const result = await db.execute(sql`
      select ${partyColumns}, ${isoTimestamp(sql`l.expires_at`)} as "expiresAt"
      from ${portalSignInLinks} l
      join ${clientContacts} ct on ct.id = l.contact_id
      join ${clients} cl on cl.id = ct.client_id
      join ${organizations} o on o.id = l.organization_id
      where l.token_hash = ${hash} and l.consumed_at is null and l.expires_at > now()
        and ct.disabled_at is null and cl.deleted_at is null`)
    const row = rawRows<PartyRow & { expiresAt: string }>(result)[0]
    if (!row) throw notFound('sign-in link')

    c.header('cache-control', 'no-store')
    return c.json({ ...partyOf(row), expiresAt: row.expiresAt }, 200)
  })
  .openapi(startSession, async (c) => {
    const { token } = c.req.valid('json')
    const { db, config, log } = c.var

    const hash = await hashSecret(token)
    const ttl = config.PORTAL_SESSION_TTL_SECONDS
    // One statement: the UPDATE … WHERE consumed_at IS NULL is the single use. A second
    // concurrent consumer waits for the row lock, re-checks and matches nothing.
    const result = await db.execute(sql`
      with consumed as (
        update ${portalSignInLinks} l
        set consumed_at = now()
        from ${clientContacts} ct, ${clients} cl
        where l.token_hash = ${hash} and l.consumed_at is null and l.expires_at > now()
          and ct.id = l.contact_id and ct.disabled_at is null
          and cl.id = ct.client_id and cl.deleted_at is null
        returning l.organization_id, l.contact_id, ct.client_id
      ),
      session as (
        insert into ${portalSessions} (organization_id, contact_id, client_id, expires_at)
        select organization_id, contact_id, client_id, ${secondsFromNow(ttl)}
        from consumed
        returning id, organization_id, contact_id, client_id
      )
      select s.id as "sessionId", ${partyColumns}
      from session s
      join ${clientContacts} ct on ct.id = s.contact_id
      join ${clients} cl on cl.id = s.client_id
      join ${organizations} o on o.id = s.organization_id`)
    const row = rawRows<PartyRow & { sessionId: string }>(result)[0]
    if (!row) throw invalidLink()

    const accessToken = await signPortalToken(
      config,
      {
        kind: 'portal',
        contactId: row.contactId,
        clientId: row.clientId,
        organizationId: row.organizationId,
        sessionId: row.sessionId,
      },
      { ttlSeconds: ttl },
    )
    log.info('portal session started', { sessionId: row.sessionId, contactId: row.contactId })
    return c.json(
      { ...partyOf(row), accessToken, tokenType: 'Bearer' as const, expiresIn: ttl },
      201,
    )
  })
  .openapi(portalLogout, async (c) => {
    const portal = portalOf(c)

    const ended = await c.var.db
      .update(portalSessions)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(portalSessions.id, portal.sessionId), portalSessionHolds(portal)))
      .returning({ id: portalSessions.id })
    if (!ended[0]) throw portalSessionEnded()

    return c.body(null, 204)
  })
  .openapi(portalMe, async (c) => {
    const portal = portalOf(c)

    const result = await c.var.db.execute(sql`
      select ${partyColumns}, s.id as "sessionId", ${isoTimestamp(sql`s.expires_at`)} as "expiresAt"
      from ${portalSessions} s
      join ${clientContacts} ct on ct.id = s.contact_id
      join ${clients} cl on cl.id = s.client_id
      join ${organizations} o on o.id = s.organization_id
      where s.id = ${portal.sessionId}::uuid and ${portalSessionHolds(portal)}`)
    const row = rawRows<PartyRow & { sessionId: string; expiresAt: string }>(result)[0]
    if (!row) throw portalSessionEnded()

    const session = { id: row.sessionId, expiresAt: row.expiresAt }
    return c.json({ ...partyOf(row), session }, 200)
  })
