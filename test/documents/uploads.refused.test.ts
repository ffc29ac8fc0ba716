// What is refused, and that a refusal writes nothing: limits checked before any URL is
// minted (and before the database), closed items and requests, and completions whose
// object is missing or does not match the terms it was signed for.
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import * as schema from '../../src/db/schema'
import {
  call,
  database,
  expectProblem,
  expectStatus,
  json,
  roundTrips,
  seedTenant,
  tenantSnapshot,
} from '../access/tenant'
import { type Intent, pdf, seedItems, startUpload, storeObject, uploadsPath } from './support'

describe('limits, before any URL is minted', () => {
  it('refuses a declared size above UPLOAD_MAX_BYTES without touching the database', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await startUpload(tenant, items, pdf(100 * 1024 * 1024 + 1))

    expectProblem(response, 413, 'payload_too_large')
    expect(roundTrips(response)).toBe(0)
    expect(response.text).not.toContain('X-Amz')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('accepts exactly UPLOAD_MAX_BYTES', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)

    const response = await startUpload(tenant, items, pdf(100 * 1024 * 1024))

    expectStatus(response, 201)
    expect(roundTrips(response)).toBe(1)
  })

  it.each(['text/html', 'image/svg+xml', 'application/x-msdownload', 'application/javascript'])(
    'refuses %s, which is not on the allow-list',
    async (contentType) => {
      const tenant = await seedTenant()
      const items = await seedItems(tenant)
      const before = await tenantSnapshot(tenant.organization.id)

      const response = await startUpload(tenant, items, { ...pdf(), contentType })

      expectProblem(response, 415, 'unsupported_media_type')
      expect(roundTrips(response)).toBe(0)
      expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
    },
  )

  it.each([
    ['a zero size', { ...pdf(), sizeBytes: 0 }, 'body.sizeBytes'],
    ['a fractional size', { ...pdf(), sizeBytes: 1.5 }, 'body.sizeBytes'],
    ['a size as text', { ...pdf(), sizeBytes: '10' }, 'body.sizeBytes'],
    [
      'a media type with parameters',
      { ...pdf(), contentType: 'text/csv; charset=utf-8' },
      'body.contentType',
    ],
    ['an empty filename', { ...pdf(), filename: '' }, 'body.filename'],
    ['a NUL in the filename', { ...pdf(), filename: 'bank\u0000.pdf' }, 'body.filename'],
    [
      'a checksum that is not SHA-256 hex',
      { ...pdf(), checksumSha256: 'abc' },
      'body.checksumSha256',
    ],
    ['an unknown field', { ...pdf(), key: 'org/other/object' }, 'body.key'],
  ])('refuses %s', async (_case, body, path) => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)

    const response = await startUpload(tenant, items, body as ReturnType<typeof pdf>)

    expectProblem(response, 400, 'validation_failed')
    expect(
      json<{ errors: { path: string }[] }>(response).errors.map((error) => error.path),
    ).toContain(path)
    expect(roundTrips(response)).toBe(0)
  })

  it('refuses a NUL in the filename through the portal too, naming the field', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await call(uploadsPath(items, 0, true), {
      token: tenant.portal.token,
      body: { ...pdf(), filename: 'statement\u0000.pdf' },
    })

    expectProblem(response, 400, 'validation_failed')
    expect(json<{ errors: { path: string; message: string }[] }>(response).errors).toEqual([
      expect.objectContaining({ path: 'body.filename', message: expect.stringMatching(/NUL/) }),
    ])
    expect(roundTrips(response)).toBe(0)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })
})

describe('items and requests that take no uploads', () => {
  it('refuses an accepted item, in one round trip, writing nothing', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    await database()
      .update(schema.requestItems)
      .set({ status: 'accepted' })
      .where(eq(schema.requestItems.id, items.itemIds[0] ?? ''))
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await startUpload(tenant, items)

    expectProblem(response, 409, 'invalid_transition')
    expect(roundTrips(response)).toBe(1)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it.each(['completed', 'cancelled'] as const)('refuses a %s request', async (status) => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant, status)

    const staff = await startUpload(tenant, items)
    const portal = await call(uploadsPath(items, 0, true), {
      token: tenant.portal.token,
      body: pdf(),
    })

    expectProblem(staff, 409, 'invalid_transition')
    expectProblem(portal, 409, 'invalid_transition')
  })

  it('lets staff prepare a draft request, which the portal cannot see', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant, 'draft')

    expectStatus(await startUpload(tenant, items), 201)
    const portal = await call(uploadsPath(items, 0, true), {
      token: tenant.portal.token,
      body: pdf(),
    })
    expectProblem(portal, 404, 'not_found')
  })
})

describe('completion that records nothing', () => {
  async function intentWith(body = pdf(64)) {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const started = await startUpload(tenant, items, body)
    expectStatus(started, 201)
    return { tenant, items, intent: json<Intent>(started) }
  }

  it('answers 409 while no object is stored', async () => {
    const { tenant, intent } = await intentWith()
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await call(intent.completePath, {
      token: tenant.staff.member.token,
      method: 'POST',
    })

    expectProblem(response, 409, 'conflict')
    expect(roundTrips(response)).toBe(1)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('answers 422 when the stored size differs', async () => {
    const { tenant, items, intent } = await intentWith(pdf(64))
    await storeObject(tenant, items, intent.documentId, new Uint8Array(63))
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await call(intent.completePath, {
      token: tenant.staff.member.token,
      method: 'POST',
    })

    expectProblem(response, 422, 'unprocessable')
    expect(json<{ errors: { code: string }[] }>(response).errors).toEqual([
      expect.objectContaining({ path: 'object.sizeBytes', code: 'size_mismatch' }),
    ])
    expect(roundTrips(response)).toBe(1)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('answers 422 when the stored media type differs', async () => {
    const { tenant, items, intent } = await intentWith(pdf(64))
    await storeObject(tenant, items, intent.documentId, new Uint8Array(64), 'text/html')
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await call(intent.completePath, {
      token: tenant.staff.member.token,
      method: 'POST',
    })

    expectProblem(response, 422, 'unprocessable')
    expect(json<{ errors: { code: string }[] }>(response).errors).toEqual([
      expect.objectContaining({ path: 'object.contentType', code: 'content_type_mismatch' }),
    ])
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('answers 409 when the item was accepted after the URL was minted', async () => {
    const { tenant, items, intent } = await intentWith(pdf(64))
    await storeObject(tenant, items, intent.documentId, new Uint8Array(64))
    await database()
      .update(schema.requestItems)
      .set({ status: 'accepted' })
      .where(eq(schema.requestItems.id, items.itemIds[0] ?? ''))
    const before = await tenantSnapshot(tenant.organization.id)

    const response = await call(intent.completePath, {
      token: tenant.staff.member.token,
      method: 'POST',
    })

    expectProblem(response, 409, 'invalid_transition')
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(before)
  })

  it('records a matching object exactly once, one round trip each time', async () => {
    const { tenant, items, intent } = await intentWith(pdf(64))
    await storeObject(tenant, items, intent.documentId, new Uint8Array(64))

    const first = await call(intent.completePath, {
      token: tenant.staff.member.token,
      method: 'POST',
    })
    const after = await tenantSnapshot(tenant.organization.id)
    const second = await call(intent.completePath, {
      token: tenant.staff.member.token,
      method: 'POST',
    })

    expectStatus(first, 201)
    expectStatus(second, 200)
    expect(roundTrips(first)).toBe(1)
    expect(roundTrips(second)).toBe(1)
    expect(second.body).toEqual(first.body)
    expect(await tenantSnapshot(tenant.organization.id)).toEqual(after)
  })
})

describe('who may act', () => {
  it('needs a token of the right kind', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)

    expectProblem(await call(uploadsPath(items), { body: pdf() }), 401, 'unauthorized')
    expectProblem(
      await call(uploadsPath(items), { token: tenant.portal.token, body: pdf() }),
      401,
      'unauthorized',
    )
    expectProblem(
      await call(uploadsPath(items, 0, true), { token: tenant.staff.owner.token, body: pdf() }),
      401,
      'unauthorized',
    )
  })

  it('refuses a removed staff user at once, though the token is still valid', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    await database()
      .update(schema.users)
      .set({ removedAt: new Date(), authVersion: 2 })
      .where(eq(schema.users.id, tenant.staff.member.id))

    const response = await startUpload(tenant, items)

    expectProblem(response, 401, 'unauthorized')
    expect(roundTrips(response)).toBe(1)
  })

  it('refuses an ended portal session at once', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    await database()
      .update(schema.portalSessions)
      .set({ revokedAt: new Date() })
      .where(eq(schema.portalSessions.id, tenant.portal.sessionId))

    const response = await call(uploadsPath(items, 0, true), {
      token: tenant.portal.token,
      body: pdf(),
    })

    expectProblem(response, 401, 'unauthorized')
  })

  it('lets only managers and above delete a version', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const started = json<Intent>(await startUpload(tenant, items, pdf(32)))
    await storeObject(tenant, items, started.documentId, new Uint8Array(32))
    expectStatus(
      await call(started.completePath, { token: tenant.staff.member.token, method: 'POST' }),
      201,
    )

    const byMember = await call(`/v1/documents/${started.documentId}`, {
      method: 'DELETE',
      token: tenant.staff.member.token,
    })
    expectProblem(byMember, 403, 'forbidden')
    const byManager = await call(`/v1/documents/${started.documentId}`, {
      method: 'DELETE',
      token: tenant.staff.manager.token,
    })
    expectStatus(byManager, 204)
    expect(roundTrips(byManager)).toBe(1)
  })
})

describe('malformed ids', () => {
  it.each([
    ['POST', '/v1/requests/not-a-uuid/items/00000000-0000-4000-8000-000000000000/uploads', pdf()],
    [
      'POST',
      '/v1/requests/00000000-0000-4000-8000-000000000000/items/1/uploads/2/complete',
      undefined,
    ],
    ['GET', '/v1/requests/x/items/y/documents', undefined],
    ['GET', '/v1/documents/123/download', undefined],
    ['DELETE', '/v1/documents/%27%3B--', undefined],
  ])('%s %s answers 404 like a missing row', async (method, path, body) => {
    const tenant = await seedTenant()

    const response = await call(path, { method, token: tenant.staff.manager.token, body })

    expectProblem(response, 404, 'not_found')
    expect(roundTrips(response)).toBe(0)
  })

  it.each([
    ['POST', '/v1/portal/requests/x/items/y/uploads', pdf()],
    ['POST', '/v1/portal/requests/x/items/y/uploads/z/complete', undefined],
    ['GET', '/v1/portal/requests/x/items/y/documents', undefined],
    ['GET', '/v1/portal/documents/nope/download', undefined],
  ])('portal %s %s answers 404 too', async (method, path, body) => {
    const tenant = await seedTenant()

    const response = await call(path, { method, token: tenant.portal.token, body })

    expectProblem(response, 404, 'not_found')
  })
})
