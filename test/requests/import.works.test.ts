import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { call, database, expectStatus, json, seedTenant, tenantSnapshot } from '../access/tenant'
import { createRequest, importCsv, type ItemBody, type Page, pbcList } from './support'

interface ImportResult {
  dryRun: boolean
  rows: number
  created: string[]
  updated: string[]
  unchanged: string[]
}

const utcDay = (days: number) => {
  const now = new Date()
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days))
  return day.toISOString().slice(0, 10)
}

async function liveItems(requestId: string) {
  const result = await database().execute(sql`
    select reference, title, section, description, priority,
      to_char(due_date, 'YYYY-MM-DD') as due_date
    from request_items where request_id = ${requestId}::uuid and deleted_at is null
    order by position`)
  return (result as unknown as { rows: Record<string, string | null>[] }).rows
}

describe('import: the PBC list', () => {
  it('creates every row as an item, in file order, with due dates from due_in_days', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const response = await importCsv(tenant, request.id, pbcList)
    expectStatus(response, 200)
    const result = json<ImportResult>(response)
    expect(result).toMatchObject({ dryRun: false, rows: 27, updated: [], unchanged: [] })
    expect(result.created).toHaveLength(27)

    const rows = await liveItems(request.id)
    expect(rows).toHaveLength(27)
    expect(rows[0]).toEqual({
      reference: 'A-1',
      section: 'General',
      title: 'Year-end trial balance',
      description:
        'Final trial balance at the period end, in Excel, agreeing to the general ledger',
      priority: 'high',
      due_date: utcDay(7),
    })
    expect(rows.find((row) => row.reference === 'C-3')).toMatchObject({
      priority: 'urgent',
      due_date: utcDay(5),
    })
  })

  it('a dry run reports what the import will do and writes nothing', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const before = await tenantSnapshot(tenant.organization.id)
    const dry = await importCsv(tenant, request.id, pbcList, { dryRun: true })
    expectStatus(dry, 200)
    expect(json<ImportResult>(dry)).toMatchObject({ dryRun: true, rows: 27, updated: [] })
    expect(json<ImportResult>(dry).created).toHaveLength(27)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)

    const real = json<ImportResult>(await importCsv(tenant, request.id, pbcList))
    expect({ ...real, dryRun: true }).toEqual(json<ImportResult>(dry))
  })

  it('importing again never duplicates: changed rows update, new rows append', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await importCsv(tenant, request.id, pbcList), 200)

    const same = json<ImportResult>(await importCsv(tenant, request.id, pbcList))
    expect(same.created).toEqual([])
    expect(same.updated).toEqual([])
    expect(same.unchanged).toHaveLength(27)

    const edited = pbcList
      .replace('C-2,Cash,Bank reconciliations', 'C-2,Cash,Bank reconciliations (all accounts)')
      .trimEnd()
      .concat('\nZ-1,Other,Management representation letter,,30,high\n')
    const planned = json<ImportResult>(
      await importCsv(tenant, request.id, edited, { dryRun: true }),
    )
    const applied = json<ImportResult>(await importCsv(tenant, request.id, edited))
    expect(applied).toMatchObject({
      created: ['Z-1'],
      updated: ['C-2'],
      changes: [{ reference: 'C-2', fields: ['title'] }],
    })
    expect(applied.unchanged).toHaveLength(26)
    expect({ ...applied, dryRun: true }).toEqual(planned)

    const rows = await liveItems(request.id)
    expect(rows).toHaveLength(28)
    expect(rows.at(-1)?.reference).toBe('Z-1')
    expect(rows.find((row) => row.reference === 'C-2')?.title).toBe(
      'Bank reconciliations (all accounts)',
    )
  })

  it('keeps the review status of items it updates', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await importCsv(tenant, request.id, 'reference,title\nA-1,Trial balance\n'), 200)
    await database().execute(
      sql`update request_items set status = 'accepted' where request_id = ${request.id}::uuid`,
    )
    const v2 = 'reference,title\nA-1,Trial balance v2\n'
    expectStatus(await importCsv(tenant, request.id, v2), 200)
    const page = await call(`/v1/requests/${request.id}/items`, {
      token: tenant.staff.member.token,
    })
    expect(json<Page<ItemBody>>(page).data).toEqual([
      expect.objectContaining({ reference: 'A-1', title: 'Trial balance v2', status: 'accepted' }),
    ])
  })

  it('reads RFC 4180: quotes, line breaks in cells, CRLF, a BOM; and due_date', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const text =
      '\uFEFFReference,Title,Description,Due_Date,Priority\r\n' +
      'Q-1,"Minutes, board","Line one\r\nline two with ""quotes""",2027-05-01,MEDIUM\r\n' +
      '\r\n' +
      'Q-2,Plain,,,\r\n'
    const response = await importCsv(tenant, request.id, text)
    expectStatus(response, 200)
    expect(await liveItems(request.id)).toEqual([
      {
        reference: 'Q-1',
        section: null,
        title: 'Minutes, board',
        description: 'Line one\r\nline two with "quotes"',
        priority: 'medium',
        due_date: '2027-05-01',
      },
      {
        reference: 'Q-2',
        section: null,
        title: 'Plain',
        description: null,
        priority: null,
        due_date: null,
      },
    ])
  })

  it('records one summary event and one event per changed item', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    expectStatus(await importCsv(tenant, request.id, 'reference,title\nA-1,One\nA-2,Two\n'), 200)
    const trail = await call(`/v1/requests/${request.id}/activity`, {
      token: tenant.staff.member.token,
    })
    const events = json<Page<{ action: string; itemId: string | null; after: unknown }>>(trail).data
    expect(events.filter((event) => event.action === 'item.created')).toHaveLength(2)
    expect(events.find((event) => event.action === 'request.imported')?.after).toEqual({
      rows: 2,
      created: ['A-1', 'A-2'],
      updated: [],
      unchanged: [],
      changes: [],
    })
  })
})
