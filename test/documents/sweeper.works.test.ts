// The Cron Trigger: intents never completed are removed with their objects once they are
// older than their URL's lifetime plus UPLOAD_ABANDON_AFTER_SECONDS; nothing else is touched.
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { inArray, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as schema from '../../src/db/schema'
import { objectKey } from '../../src/documents/model'
import worker from '../../src/index'
import { database, seedTenant } from '../access/tenant'
import { seedItems } from './support'

describe('the scheduled sweep', () => {
  it('deletes abandoned intents and their objects, and keeps pending and completed ones', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const db = database()
    const ids = {
      abandoned: crypto.randomUUID(),
      pending: crypto.randomUUID(),
      done: crypto.randomUUID(),
    }
    const keyOf = (documentId: string) =>
      objectKey({
        organizationId: tenant.organization.id,
        requestId: items.requestId,
        itemId: items.itemIds[0] ?? '',
        documentId,
      })
    const intent = (id: string, expiresAt: ReturnType<typeof sql>, completed: boolean) => ({
      id,
      organizationId: tenant.organization.id,
      requestId: items.requestId,
      itemId: items.itemIds[0] ?? '',
      objectKey: keyOf(id),
      filename: 'a.pdf',
      contentType: 'application/pdf',
      sizeBytes: 3,
      createdByType: 'user' as const,
      createdById: tenant.staff.member.id,
      expiresAt,
      completedAt: completed ? sql`now() - interval '3 hours'` : null,
    })
    await db.insert(schema.uploadIntents).values([
      // Expired two hours ago: past the default one-hour grace.
      intent(ids.abandoned, sql`now() - interval '2 hours'`, false),
      // Expired ten minutes ago: a slow upload may still complete.
      intent(ids.pending, sql`now() - interval '10 minutes'`, false),
      intent(ids.done, sql`now() - interval '2 hours'`, true),
    ])
    for (const id of Object.values(ids)) await env.DOCUMENTS.put(keyOf(id), 'pdf')

    const controller = createScheduledController({ cron: '*/15 * * * *' })
    const context = createExecutionContext()
    await worker.scheduled(controller, env, context)
    await waitOnExecutionContext(context)

    const left = await db
      .select({ id: schema.uploadIntents.id })
      .from(schema.uploadIntents)
      .where(inArray(schema.uploadIntents.id, Object.values(ids)))
    expect(left.map((row) => row.id).sort()).toEqual([ids.pending, ids.done].sort())
    expect(await env.DOCUMENTS.head(keyOf(ids.abandoned))).toBeNull()
    expect(await env.DOCUMENTS.head(keyOf(ids.pending))).not.toBeNull()
    expect(await env.DOCUMENTS.head(keyOf(ids.done))).not.toBeNull()
  })
})
