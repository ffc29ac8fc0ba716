import { createRoute, z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { requireStaff, staffOf } from '../auth/middleware'
import { ApiError, notFound } from '../platform/errors'
import { type AppContext, createRouter } from '../platform/hono'
import {
  executeWrite,
  IdempotencyHeader,
  idempotencyKeyOf,
  replayedHeaders,
} from '../platform/idempotency'
import {
  jsonResponse,
  missingOnBadPath,
  problems,
  staffSecurity,
  uuidParam,
} from '../platform/openapi'
import { type ImportRow, readPbcList } from './csv'
import { type Caller, staffCaller, staffReader } from './guards'
import { eventExists, requestIs } from './queries'
import { outcomeOf, refuse, rowsOf, type WriteOutcome } from './respond'
import { type ImportField, ImportQuery, ImportResultSchema } from './schemas'
import { itemsChangeableIn, lockRequest } from './transitions'

type ImportResult = z.infer<typeof ImportResultSchema>
const present = (body: unknown) => ImportResultSchema.parse(body)
// Keys stored before imports reported their changes replay without them.
const presentReplay = (body: unknown) =>
  ImportResultSchema.extend({ changes: ImportResultSchema.shape.changes.default([]) }).parse(body)

const route = createRoute({
  method: 'post',
  path: '/v1/requests/{id}/import',
  tags: ['Items'],
  summary: 'Import a PBC list (CSV) into a request: upsert by reference',
  description:
    'Columns: `reference` and `title` (required), `section`, `description`, `priority`, and ' +
    '`due_date` (YYYY-MM-DD) or `due_in_days` (from today, UTC). The reference is the key: ' +
    'a second import of the same file updates changed items and never duplicates one. The ' +
    'file is taken whole or not at all; any problem answers 400 with one field error per ' +
    'problem (`rows.<line>.<column>`). `dryRun=true` gives the same answer without writing.',
  middleware: [requireStaff('manager')] as const,
  security: staffSecurity,
  request: {
    params: z.object({ id: uuidParam('id') }),
    query: ImportQuery,
    headers: IdempotencyHeader,
    body: {
      required: true,
      content: { 'text/csv': { schema: z.string().openapi({ format: 'binary' }) } },
    },
  },
  responses: {
    200: jsonResponse(ImportResultSchema, 'What was (or, in a dry run, would be) imported'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
})

function readCsvBody(contentType: string | undefined) {
  const media = contentType?.split(';')[0]?.trim().toLowerCase()
  if (media !== 'text/csv') {
    throw new ApiError('unsupported_media_type', { detail: 'Send the list as text/csv.' })
  }
}

const invalidFile = (errors: ReturnType<typeof readPbcList>['errors']) =>
  new ApiError('validation_failed', {
    detail: `The file has ${errors.length} problem(s); nothing was imported.`,
    errors,
  })

const closedRequest = (status: string) =>
  new ApiError('conflict', { detail: `The request is ${status}; nothing can be imported.` })

type ExistingItem = { reference: string } & Record<ImportField, string | null>

/** Item columns by field; only the fields whose column is in the file are written. */
const columnOf: Record<ImportField, string> = {
  section: 'section',
  title: 'title',
  description: 'description',
  dueDate: 'due_date',
  priority: 'priority',
}
const columnList = (fields: readonly ImportField[], table: string) =>
  sql.raw(fields.map((field) => `${table}.${columnOf[field]}`).join(', '))

/** A dry run: the same verdict as the import, from one read of the request's live items. */
async function preview(
  c: AppContext,
  caller: Caller,
  requestId: string,
  rows: ImportRow[],
  fields: readonly ImportField[],
): Promise<ImportResult> {
  const result = await c.var.db.execute(sql`
    select g.allowed, g.standing, r.status,
      (select coalesce(jsonb_agg(jsonb_build_object('reference', i.reference,
        'section', i.section, 'title', i.title, 'description', i.description,
        'dueDate', to_char(i.due_date, 'YYYY-MM-DD'), 'priority', i.priority)), '[]'::jsonb)
       from request_items i where i.request_id = r.id and i.deleted_at is null) as existing
    from (select ${caller.holds} as allowed, ${caller.standing} as standing) g
    left join requests r on g.allowed and ${requestIs(caller.organizationId, requestId)}`)
  const row = rowsOf<{
    allowed: boolean
    standing: unknown
    status: string | null
    existing: ExistingItem[] | null
  }>(result)[0]
  if (row === undefined || !row.allowed) refuse(caller, row?.standing ?? null)
  if (row.status === null) throw notFound('request')
  const changeable: readonly string[] = itemsChangeableIn
  if (!changeable.includes(row.status)) throw closedRequest(row.status)

  const existing = new Map((row.existing ?? []).map((item) => [item.reference, item]))
  const plan: ImportResult = {
    dryRun: true,
    rows: rows.length,
    created: [],
    updated: [],
    unchanged: [],
    changes: [],
  }
  for (const item of rows) {
    const current = existing.get(item.reference)
    if (current === undefined) {
      plan.created.push(item.reference)
      continue
    }
    const changed = fields.filter((field) => (item[field] ?? null) !== current[field])
    if (changed.length === 0) plan.unchanged.push(item.reference)
    else {
      plan.updated.push(item.reference)
      plan.changes.push({ reference: item.reference, fields: changed })
    }
  }
  return plan
}

interface ImportOutcome extends WriteOutcome<ImportResult> {
  request_status: string | null
}

export const importRoutes = createRouter().openapi(
  route,
  async (c) => {
    const staff = staffOf(c)
    const { id: requestId } = c.req.valid('param')
    const { dryRun } = c.req.valid('query')
    readCsvBody(c.req.header('content-type'))
    const text = await c.req.text()

    const { rows, fields, errors } = readPbcList(text, new Date())
    if (errors.length > 0) throw invalidFile(errors)
    if (dryRun === true) {
      const reader = staffReader(c.var.db, staff, 'manager')
      return c.json(present(await preview(c, reader, requestId, rows, fields)), 200)
    }

    const caller = staffCaller(c.var.db, staff, 'manager')
    const org = staff.organizationId
    const key = await idempotencyKeyOf(c, { organizationId: org, principalId: staff.userId }, text)
    const eventId = crypto.randomUUID()
    const incoming = JSON.stringify(
      rows.map((row) => ({
        reference: row.reference,
        section: row.section,
        title: row.title,
        description: row.description,
        due_date: row.dueDate,
        priority: row.priority,
        ord: row.ord,
      })),
    )
    const references = JSON.stringify(rows.map((row) => row.reference))
    const inFileOrder = (filter: ReturnType<typeof sql>) => sql`(
      select coalesce(jsonb_agg(f.ref order by f.n), '[]'::jsonb)
      from jsonb_array_elements_text(${references}::jsonb) with ordinality f(ref, n)
      where ${filter})`
    const body = sql`(select jsonb_build_object('dryRun', false) || ev.after
      from activity_events ev where ev.id = ${eventId}::uuid)`
    // A column absent from the file keeps the item's value; an empty cell clears it.
    const assignments = sql.raw(
      fields.map((field) => `${columnOf[field]} = excluded.${columnOf[field]}`).join(', '),
    )
    const differs = (item: string, next: string) =>
      sql.join(
        fields.map(
          (field) => sql`case when ${sql.raw(`${item}.${columnOf[field]}`)} is distinct from
            ${sql.raw(`${next}.${columnOf[field]}`)} then ${field}::text end`,
        ),
        sql`, `,
      )

    const result = await executeWrite<ImportOutcome>(c.var.db, {
      key,
      allowed: caller.holds,
      change: (gate) => [
        lockRequest(org, requestId),
        sql`
        with target as (
          select r.id from requests r
          where ${requestIs(org, requestId)} and r.status in ${itemsChangeableIn} and ${gate}
        ), incoming as (
          select n.reference, n.section, n.title, n.description, n.due_date, n.priority, n.ord
          from jsonb_to_recordset(${incoming}::jsonb) as n(reference text,
            section text, title text, description text, due_date date, priority priority,
            ord integer)
        ), changed as (
          -- Read before the upsert (one snapshot per statement): the fields each row changes.
          select n.reference, n.ord,
            array_remove(array[${differs('i', 'n')}]::text[], null) as fields
          from target t
          join request_items i on i.request_id = t.id and i.deleted_at is null
          join incoming n on n.reference = i.reference
        ), upserted as (
          insert into request_items (organization_id, request_id, reference, section, title,
            description, due_date, priority, position)
          select ${org}::uuid, t.id, n.reference, n.section, n.title, n.description, n.due_date,
            n.priority,
            coalesce((select max(x.position) from request_items x where x.request_id = t.id), 0)
              + n.ord
          from target t cross join incoming n
          on conflict (request_id, reference) where deleted_at is null do update
            set ${assignments}, revision = request_items.revision + 1, updated_at = now()
            where (${columnList(fields, 'request_items')})
              is distinct from (${columnList(fields, 'excluded')})
          -- xmax is 0 only on a freshly inserted row: tells creations from updates.
          returning id, request_id, reference, (xmax = 0) as inserted
        ), item_events as (
          insert into activity_events (id, organization_id, actor_type, actor_id, request_id,
            item_id, action, after)
          select gen_random_uuid(), ${org}::uuid, 'user', ${staff.userId}::uuid, u.request_id,
            u.id, case when u.inserted then 'item.created' else 'item.updated' end,
            jsonb_build_object('reference', u.reference, 'source', 'import')
              || case when u.inserted then '{}'::jsonb else jsonb_build_object('fields',
                (select to_jsonb(ch.fields) from changed ch where ch.reference = u.reference))
              end
          from upserted u
        ), touched as (
          update requests r set revision = r.revision + 1, updated_at = now()
          where r.id in (select request_id from upserted)
        )
        insert into activity_events (id, organization_id, actor_type, actor_id, request_id,
          action, after)
        select ${eventId}::uuid, ${org}::uuid, 'user', ${staff.userId}::uuid, t.id,
          'request.imported', jsonb_build_object(
            'rows', ${rows.length}::integer,
            'created',
              ${inFileOrder(sql`f.ref in (select reference from upserted where inserted)`)},
            'updated',
              ${inFileOrder(sql`f.ref in (select reference from upserted where not inserted)`)},
            'unchanged', ${inFileOrder(sql`f.ref not in (select reference from upserted)`)},
            'changes', (select coalesce(jsonb_agg(jsonb_build_object('reference', ch.reference,
                'fields', to_jsonb(ch.fields)) order by ch.ord), '[]'::jsonb)
              from changed ch
              where ch.reference in (select reference from upserted where not inserted)))
        from target t`,
      ],
      done: eventExists(eventId),
      response: { status: 200, body },
      outcome: outcomeOf(
        caller,
        eventExists(eventId),
        sql`select ${body} as body, null::text as etag`,
        sql`, (select r.status from requests r where ${requestIs(org, requestId)})
          as request_status`,
      ),
    })
    if (result.replay) return c.json(presentReplay(result.replay.body), 200, replayedHeaders)

    const outcome = result.outcome
    if (!outcome.done) {
      caller.assert(outcome.standing)
      if (outcome.request_status === null) throw notFound('request')
      throw closedRequest(outcome.request_status)
    }
    c.var.log.info('items imported', { requestId, rows: rows.length })
    return c.json(present(outcome.body), 200)
  },
  missingOnBadPath('request'),
)
