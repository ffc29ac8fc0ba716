import { describe, expect, it } from 'vitest'
import { expectProblem, json, seedTenant, tenantSnapshot } from '../access/tenant'
import { createRequest, importCsv, pbcList, transition } from './support'

interface Problem {
  errors: { path: string; code: string; message: string }[]
}

const paths = (body: unknown) => (body as Problem).errors.map((error) => error.path)

describe('import: refused', () => {
  it('reports every bad row by line and column, dry run or not, writing nothing', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const text = [
      'reference,section,title,description,due_in_days,priority',
      'A-1,General,Trial balance,,7,high',
      'A-2,General,,,7,medium',
      'A-3,General,Minutes,,soon,critical',
      'A-1,General,Again,,7,low',
      'A 4  x,General,Bad reference,,7,low',
      'A-5,General,Too few cells',
    ].join('\n')
    const before = await tenantSnapshot(tenant.organization.id)

    for (const dryRun of [true, false]) {
      const response = await importCsv(tenant, request.id, text, { dryRun })
      expectProblem(response, 400, 'validation_failed')
      expect(paths(response.body)).toEqual([
        'rows.3.title',
        'rows.4.priority',
        'rows.4.due_in_days',
        'rows.5.reference',
        'rows.6.reference',
        'rows.7',
      ])
    }
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('checks the header: unknown, missing and conflicting columns', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const response = await importCsv(
      tenant,
      request.id,
      'ref,titel,due_date,due_in_days\nA-1,x,2027-01-01,3\n',
    )
    expectProblem(response, 400, 'validation_failed')
    expect(paths(response.body)).toEqual([
      'header.ref',
      'header.titel',
      'header.reference',
      'header.title',
      'header.due_in_days',
    ])
  })

  it('refuses a repeated column, naming it', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    for (const dryRun of [true, false]) {
      const response = await importCsv(tenant, request.id, 'reference,title,Title\nA-1,a,b\n', {
        dryRun,
      })
      expectProblem(response, 400, 'validation_failed')
      expect((response.body as Problem).errors, response.text).toEqual([
        { path: 'header.title', message: 'Column repeated', code: 'duplicate' },
      ])
    }
  })

  it('refuses broken CSV, an empty list and too many rows', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const unclosed = await importCsv(tenant, request.id, 'reference,title\nA-1,"never closed\n')
    expectProblem(unclosed, 400, 'validation_failed')
    expect(paths(unclosed.body)).toEqual(['rows.2'])
    const empty = await importCsv(tenant, request.id, 'reference,title\n')
    expect(paths(empty.body)).toEqual(['rows'])
    const rows = Array.from({ length: 1001 }, (_, n) => `R-${n},Row ${n}`)
    const many = await importCsv(tenant, request.id, ['reference,title', ...rows].join('\n'))
    expectProblem(many, 400, 'validation_failed')
    expect((many.body as Problem).errors[0]?.code).toBe('too_many_rows')
  })

  it('wants text/csv', async () => {
    const tenant = await seedTenant()
    const request = await createRequest(tenant)
    const response = await importCsv(tenant, request.id, pbcList, {
      headers: { 'content-type': 'application/json' },
    })
    expectProblem(response, 415, 'unsupported_media_type')
  })

  it('needs an open request of the organization and a manager', async () => {
    const tenant = await seedTenant()
    const other = await seedTenant()
    const request = await createRequest(tenant)
    const theirs = await createRequest(other)
    expectProblem(await importCsv(tenant, theirs.id, pbcList), 404, 'not_found')
    expectProblem(await importCsv(tenant, theirs.id, pbcList, { dryRun: true }), 404, 'not_found')
    expectProblem(
      await importCsv(tenant, request.id, pbcList, { token: tenant.staff.member.token }),
      403,
      'forbidden',
    )
    await transition(tenant, request.id, 'cancelled')
    expectProblem(await importCsv(tenant, request.id, pbcList), 409, 'conflict')
    expectProblem(await importCsv(tenant, request.id, pbcList, { dryRun: true }), 409, 'conflict')
    expect(json<{ detail: string }>(await importCsv(tenant, request.id, pbcList)).detail).toContain(
      'cancelled',
    )
  })
})
