// Re-importing a PBC list with fewer columns: a column absent from the header leaves its
// field alone, an empty cell in a present column clears it, and the dry run names the fields.
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { call, database, expectStatus, json, seedTenant } from '../access/tenant'
import { createItem, createRequest, expectRoundTrips, importCsv } from './support'

interface ImportResult {
  dryRun: boolean
  rows: number
  created: string[]
  updated: string[]
  unchanged: string[]
  changes: { reference: string; fields: string[] }[]
}

const full = {
  reference: 'W-1',
  title: 'Bank confirmations',
  description: 'Every account at the period end',
  section: 'Cash',
  priority: 'urgent',
  dueDate: '2027-03-01',
}

async function stored(requestId: string) {
  const result = await database().execute(sql`
    select reference, title, section, description, priority::text as priority,
      to_char(due_date, 'YYYY-MM-DD') as "dueDate"
    from request_items where request_id = ${requestId}::uuid and deleted_at is null
    order by position`)
  return (result as unknown as { rows: Record<string, string | null>[] }).rows
}

async function withItem() {
  const tenant = await seedTenant()
  const request = await createRequest(tenant)
  await createItem(tenant, request.id, full)
  return { tenant, request }
}

describe('import: columns absent from the file', () => {
  it('keep the item’s other fields; the dry run and the import name what changes', async () => {
    const { tenant, request } = await withItem()
    const text = 'reference,title\nW-1,keep\n'

    const dry = await importCsv(tenant, request.id, text, { dryRun: true })
    expectStatus(dry, 200)
    expectRoundTrips(dry, 1)
    expect(json<ImportResult>(dry)).toEqual({
      dryRun: true,
      rows: 1,
      created: [],
      updated: ['W-1'],
      unchanged: [],
      changes: [{ reference: 'W-1', fields: ['title'] }],
    })

    const real = await importCsv(tenant, request.id, text)
    expectStatus(real, 200)
    expectRoundTrips(real, 1)
    expect({ ...json<ImportResult>(real), dryRun: true }).toEqual(json<ImportResult>(dry))
    expect(await stored(request.id)).toEqual([{ ...full, title: 'keep' }])
  })

  it('an empty cell in a present column clears that field, and only that one', async () => {
    const { tenant, request } = await withItem()
    const text = 'reference,title,section,due_date\nW-1,Bank confirmations,,2027-04-01\n'

    const dry = json<ImportResult>(await importCsv(tenant, request.id, text, { dryRun: true }))
    expect(dry.changes).toEqual([{ reference: 'W-1', fields: ['section', 'dueDate'] }])
    const real = await importCsv(tenant, request.id, text)
    expectStatus(real, 200)
    expect({ ...json<ImportResult>(real), dryRun: true }).toEqual(dry)
    expect(await stored(request.id)).toEqual([
      { ...full, section: null, dueDate: '2027-04-01' },
    ])
  })

  it('a file that repeats only what is stored leaves the item unchanged', async () => {
    const { tenant, request } = await withItem()
    const text = 'reference,title,priority\nW-1,Bank confirmations,URGENT\n'
    const result = json<ImportResult>(await importCsv(tenant, request.id, text))
    expect(result).toMatchObject({ updated: [], unchanged: ['W-1'], changes: [] })
    expect(await stored(request.id)).toEqual([full])
  })

  it('new items get only the file’s columns; the trail names the changed fields', async () => {
    const { tenant, request } = await withItem()
    const text = 'reference,title,due_in_days\nW-1,Bank confirmations,0\nW-2,Loans,\n'
    const result = json<ImportResult>(await importCsv(tenant, request.id, text))
    expect(result).toMatchObject({
      created: ['W-2'],
      updated: ['W-1'],
      changes: [{ reference: 'W-1', fields: ['dueDate'] }],
    })
    const rows = await stored(request.id)
    expect(rows[1]).toEqual({
      reference: 'W-2',
      title: 'Loans',
      section: null,
      description: null,
      priority: null,
      dueDate: null,
    })

    const trail = await call(`/v1/requests/${request.id}/activity`, {
      token: tenant.staff.member.token,
    })
    const events = json<{ data: { action: string; after: Record<string, unknown> | null }[] }>(
      trail,
    ).data
    expect(events.find((event) => event.action === 'item.updated')?.after).toEqual({
      reference: 'W-1',
      source: 'import',
      fields: ['dueDate'],
    })
  })
})
