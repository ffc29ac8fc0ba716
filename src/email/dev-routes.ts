import { createRoute, z } from '@hono/zod-openapi'
import { desc, eq } from 'drizzle-orm'
import { emailOutbox } from '../db/schema'
import { ApiError } from '../platform/errors'
import { type AppMiddleware, createRouter } from '../platform/hono'
import { jsonResponse, noSecurity, problems } from '../platform/openapi'
import { mailKinds } from './mailer'

const OutboxQuery = z.object({
  to: z
    .email()
    .transform((email) => email.toLowerCase())
    .openapi({ description: 'Recipient, compared case-folded' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

const OutboxMail = z.object({
  id: z.uuid(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  kind: z.enum(mailKinds).or(z.string()),
  createdAt: z.string(),
})

/**
 * Development and test only: anywhere else the route answers exactly like one that does not
 * exist, before any validation could tell it apart.
 */
const devOnly: AppMiddleware = async function devOnly(c, next) {
  const { config, mailer } = c.var
  if (config.APP_ENV === 'production' || mailer.backend !== 'outbox') {
    throw new ApiError('not_found', { detail: `No route for ${c.req.method} ${c.req.path}.` })
  }
  await next()
}

// Hidden from the OpenAPI document: it is a development tool, absent from production.
const readOutbox = createRoute({
  method: 'get',
  path: '/v1/dev/outbox',
  hide: true,
  tags: ['Development'],
  summary: 'Mail the local outbox holds for one address, newest first',
  security: noSecurity,
  middleware: [devOnly] as const,
  request: { query: OutboxQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(OutboxMail) }), 'Messages'),
    ...problems(400, 404),
  },
})

/** Lets a developer (and the tests) read the mail the outbox mailer stored. */
export const devRoutes = createRouter().openapi(readOutbox, async (c) => {
  const { to, limit } = c.req.valid('query')

  const rows = await c.var.db
    .select({
      id: emailOutbox.id,
      to: emailOutbox.to,
      subject: emailOutbox.subject,
      text: emailOutbox.text,
      kind: emailOutbox.kind,
      createdAt: emailOutbox.createdAt,
    })
    .from(emailOutbox)
    .where(eq(emailOutbox.to, to))
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(limit)

  const data = rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }))
  return c.json({ data }, 200)
})
