import type { SQL } from 'drizzle-orm'
import type { Config } from '../env'
import type { Database } from '../platform/database'
import type { AppContext } from '../platform/hono'
import { describeError, type Logger } from '../platform/logger'
import { createHttpMailer } from './http-mailer'
import { createOutboxMailer } from './outbox-mailer'

export const mailKinds = ['staff_invitation', 'portal_invitation', 'portal_sign_in'] as const
export type MailKind = (typeof mailKinds)[number]

export interface Mail {
  kind: MailKind
  to: string
  subject: string
  text: string
  /** The tenant the mail is about, for the outbox's bookkeeping. */
  organizationId: string | null
}

/**
 * Mail is sent in two steps so it can never describe a change that did not happen:
 * `stage` adds writes to the batch that makes the change (the outbox's row, guarded by
 * `when`), and `deliver` runs once that batch committed (the HTTP provider's call).
 */
export interface Mailer {
  readonly backend: 'outbox' | 'http'
  /** Statements, so they fit a `db.batch` (through `db.execute`) and an idempotent write plan. */
  stage(mail: Mail, when: SQL): SQL[]
  deliver(mail: Mail): Promise<void>
}

export function createMailer(config: Config, db: Database): Mailer {
  if (config.EMAIL_BACKEND === 'http') return createHttpMailer(config)
  // env.ts refuses the outbox when APP_ENV is production, so this branch never runs there.
  return createOutboxMailer(db)
}

/**
 * Delivery after the response: the answer (and its timing) must not depend on whether a
 * mail went out, and a slow provider must not hold the request.
 */
export function deliverAfterResponse(c: AppContext, mail: Mail) {
  const { mailer, log } = c.var
  const delivery = mailer.deliver(mail).catch((error: unknown) => {
    reportFailure(log, mail, error)
  })
  try {
    c.executionCtx.waitUntil(delivery)
  } catch {
    // No execution context (app.request in a unit test): the delivery runs unawaited.
  }
}

function reportFailure(log: Logger, mail: Mail, error: unknown) {
  log.error('mail delivery failed', {
    kind: mail.kind,
    organizationId: mail.organizationId,
    ...describeError(error),
  })
}
