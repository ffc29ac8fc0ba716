import { sql } from 'drizzle-orm'
import { emailOutbox } from '../db/schema'
import type { Database } from '../platform/database'
import type { Mailer } from './mailer'

/**
 * Development and test mail: rows in `email_outbox`, written in the same batch as the change
 * they announce, read back through `GET /v1/dev/outbox`. Never configured in production.
 */
export function createOutboxMailer(db: Database): Mailer {
  return {
    backend: 'outbox',
    stage: (mail, when) => [
      sql`
        insert into ${emailOutbox} (organization_id, "to", subject, text, kind)
        select ${mail.organizationId}::uuid, ${mail.to}, ${mail.subject}, ${mail.text}, ${mail.kind}
        where ${when}`,
    ],
    deliver: async () => {},
  }
}
