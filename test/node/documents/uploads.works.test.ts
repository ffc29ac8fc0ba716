// What works, end to end: the API signs, the bytes go straight to Miniflare's R2 over its S3
// endpoint, the API verifies and records a version, and the download serves the same bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { objectKey } from '../../../src/documents/model.ts'
import { createStorage } from '../../../src/documents/storage.ts'
import { type ApiWorker, startApiWorker } from '../support/api-worker.ts'
import {
  itemRecord,
  requestStatus,
  seedTenant,
  setItemStatus,
  type Tenant,
} from '../support/tenant.ts'
import {
  call,
  expectStatus,
  expectTrips,
  intentOf,
  itemPath,
  pdfBytes,
  portalItemPath,
  putObject,
  sha256Hex,
} from './helpers.ts'

let worker: ApiWorker

beforeAll(async () => {
  worker = await startApiWorker()
})

afterAll(async () => {
  await worker?.stop()
})

async function uploadVersion(tenant: Tenant, itemId: string, bytes: Uint8Array, filename: string) {
  const intent = await call(
    worker,
    'POST',
    `${itemPath(tenant.requestId, itemId)}/uploads`,
    tenant.staff.member.token,
    {
      filename,
      contentType: 'application/pdf',
      sizeBytes: bytes.length,
      checksumSha256: await sha256Hex(bytes),
    },
  )
  expectStatus(intent, 201)
  const body = intentOf(intent)
  const put = await putObject(body, bytes)
  expect(put.status, put.text).toBe(200)
  const completed = await call(worker, 'POST', body.completePath, tenant.staff.member.token)
  expectStatus(completed, 201)
  return { intent, completed }
}

describe('a staff upload', () => {
  it('is signed, stored directly, verified, versioned and downloadable byte for byte', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[0] ?? ''
    const bytes = pdfBytes(4096)

    const intent = await call(
      worker,
      'POST',
      `${itemPath(tenant.requestId, itemId)}/uploads`,
      tenant.staff.member.token,
      {
        filename: 'Bank confirmation 2026.pdf',
        contentType: 'application/pdf',
        sizeBytes: bytes.length,
        checksumSha256: await sha256Hex(bytes),
      },
    )
    expectStatus(intent, 201)
    expectTrips(intent, 1)
    const body = intentOf(intent)
    expect(body.documentId).toMatch(/^[0-9a-f-]{36}$/)
    expect(new URL(body.upload.url).pathname).toBe(
      `/cdn-cgi/local/r2/s3/currentmesh-documents/${tenant.organizationId}/${tenant.requestId}/${itemId}/${body.documentId}`,
    )
    expect(body.upload.url).not.toContain('Bank')
    expect(body.upload.headers).toMatchObject({
      'content-type': 'application/pdf',
      'content-length': String(bytes.length),
      'if-none-match': '*',
    })

    // Before the PUT, completing is refused and records nothing.
    const early = await call(worker, 'POST', body.completePath, tenant.staff.member.token)
    expectStatus(early, 409)
    expect(await itemRecord(worker.config, itemId)).toMatchObject({
      versions: 0,
      events: [],
      status: 'open',
    })

    const put = await putObject(body, bytes)
    expect(put.status, put.text).toBe(200)

    const completed = await call(worker, 'POST', body.completePath, tenant.staff.member.token)
    expectStatus(completed, 201)
    expectTrips(completed, 1)
    expect(completed.json).toMatchObject({
      id: body.documentId,
      requestId: tenant.requestId,
      itemId,
      version: 1,
      filename: 'Bank confirmation 2026.pdf',
      contentType: 'application/pdf',
      sizeBytes: bytes.length,
      uploadedBy: { type: 'user', id: tenant.staff.member.id },
      deletedAt: null,
    })
    expect(Object.keys(completed.json).sort()).toEqual(
      ['checksumSha256', 'contentType', 'createdAt', 'deletedAt', 'filename', 'id', 'itemId']
        .concat(['requestId', 'sizeBytes', 'uploadedBy', 'version'])
        .sort(),
    )
    expect(await itemRecord(worker.config, itemId)).toMatchObject({
      versions: 1,
      completedIntents: 1,
      events: ['document.uploaded', 'item.submitted'],
      status: 'submitted',
    })

    const listed = await call(
      worker,
      'GET',
      `${itemPath(tenant.requestId, itemId)}/documents`,
      tenant.staff.member.token,
    )
    expectStatus(listed, 200)
    expectTrips(listed, 1)
    expect(listed.json.data).toEqual([completed.json])

    const download = await call(
      worker,
      'GET',
      `/v1/documents/${body.documentId}/download`,
      tenant.staff.member.token,
    )
    expectStatus(download, 200)
    expectTrips(download, 1)
    const link = download.json as { url: string; expiresAt: string }
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('60')
    const served = await fetch(link.url)
    expect(served.status).toBe(200)
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes)
    expect(served.headers.get('content-disposition')).toBe(
      `attachment; filename="Bank confirmation 2026.pdf"; filename*=UTF-8''Bank%20confirmation%202026.pdf`,
    )
    expect((await itemRecord(worker.config, itemId)).events).toEqual([
      'document.downloaded',
      'document.uploaded',
      'item.submitted',
    ])
  })

  it('completes once: a repeat returns the same version and records nothing more', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[0] ?? ''
    const { intent, completed } = await uploadVersion(tenant, itemId, pdfBytes(1000), 'a.pdf')

    const again = await call(
      worker,
      'POST',
      intentOf(intent).completePath,
      tenant.staff.member.token,
    )
    expectStatus(again, 200)
    expectTrips(again, 1)
    expect(again.json).toEqual(completed.json)
    expect(await itemRecord(worker.config, itemId)).toMatchObject({
      versions: 1,
      events: ['document.uploaded', 'item.submitted'],
    })
  })

  it('a retried intent (same Idempotency-Key) signs a URL the store takes', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[0] ?? ''
    const bytes = pdfBytes(2000)
    const path = `${itemPath(tenant.requestId, itemId)}/uploads`
    const body = { filename: 'retried.pdf', contentType: 'application/pdf', sizeBytes: 2000 }
    const key = { 'idempotency-key': crypto.randomUUID() }
    const token = tenant.staff.member.token

    const first = await call(worker, 'POST', path, token, body, key)
    expectStatus(first, 201)
    const retry = await call(worker, 'POST', path, token, body, key)
    expectStatus(retry, 201)
    expectTrips(retry, 1)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(intentOf(retry).documentId).toBe(intentOf(first).documentId)

    const put = await putObject(intentOf(retry), bytes)
    expect(put.status, put.text).toBe(200)
    // The first URL names the same object, which now exists: the store refuses a second PUT.
    expect((await putObject(intentOf(first), bytes)).status).toBe(412)
    const { completePath } = intentOf(retry)
    const completed = await call(worker, 'POST', completePath, token, undefined, key)
    expectStatus(completed, 201)
    expect(await itemRecord(worker.config, itemId)).toMatchObject({ versions: 1 })
  })

  it('adds a version on re-upload after the item was returned, and never replaces one', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[0] ?? ''
    const first = await uploadVersion(tenant, itemId, pdfBytes(900, 1), 'draft.pdf')
    expect(await requestStatus(worker.config, tenant.requestId)).toBe('in_progress')
    await setItemStatus(worker.config, itemId, 'returned')

    const second = await uploadVersion(tenant, itemId, pdfBytes(950, 2), 'final.pdf')

    expect(first.completed.json.version).toBe(1)
    expect(second.completed.json.version).toBe(2)
    const listed = await call(
      worker,
      'GET',
      `${itemPath(tenant.requestId, itemId)}/documents`,
      tenant.staff.member.token,
    )
    expect(listed.json.data).toEqual([second.completed.json, first.completed.json])
    expect(await itemRecord(worker.config, itemId)).toMatchObject({
      versions: 2,
      status: 'submitted',
      events: ['document.uploaded', 'document.uploaded', 'item.submitted', 'item.submitted'],
    })

    // Both versions still serve their own bytes.
    for (const [version, bytes] of [
      [first, pdfBytes(900, 1)],
      [second, pdfBytes(950, 2)],
    ] as const) {
      const link = await call(
        worker,
        'GET',
        `/v1/documents/${String(version.completed.json.id)}/download`,
        tenant.staff.member.token,
      )
      const served = await fetch((link.json as { url: string }).url)
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes)
    }
  })

  it('numbers concurrent completions on one item without gaps or duplicates', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[0] ?? ''
    const intents = await Promise.all(
      [1, 2, 3].map(async (seed) => {
        const bytes = pdfBytes(700 + seed, seed)
        const intent = await call(
          worker,
          'POST',
          `${itemPath(tenant.requestId, itemId)}/uploads`,
          tenant.staff.member.token,
          {
            filename: `part-${seed}.pdf`,
            contentType: 'application/pdf',
            sizeBytes: bytes.length,
          },
        )
        expectStatus(intent, 201)
        const put = await putObject(intentOf(intent), bytes)
        expect(put.status, put.text).toBe(200)
        return intentOf(intent)
      }),
    )

    const completions = await Promise.all(
      intents.map((intent) => call(worker, 'POST', intent.completePath, tenant.staff.member.token)),
    )
    for (const completion of completions) expectStatus(completion, 201)
    expect(completions.map((completion) => completion.json.version).sort()).toEqual([1, 2, 3])
  })
})

describe('a portal upload', () => {
  it('works for the contact of the request’s client, and staff see the version', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[1] ?? ''
    const bytes = pdfBytes(2048, 7)

    const intent = await call(
      worker,
      'POST',
      `${portalItemPath(tenant.requestId, itemId)}/uploads`,
      tenant.contact.token,
      {
        filename: 'Übersicht Konten.pdf',
        contentType: 'application/pdf',
        sizeBytes: bytes.length,
      },
    )
    expectStatus(intent, 201)
    expectTrips(intent, 1)
    const body = intentOf(intent)
    expect(body.completePath).toBe(
      `/v1/portal/requests/${tenant.requestId}/items/${itemId}/uploads/${body.documentId}/complete`,
    )
    const put = await putObject(body, bytes)
    expect(put.status, put.text).toBe(200)

    const completed = await call(worker, 'POST', body.completePath, tenant.contact.token)
    expectStatus(completed, 201)
    expectTrips(completed, 1)
    expect(completed.json).toMatchObject({
      version: 1,
      uploadedBy: { type: 'contact', id: tenant.contact.id },
    })

    const portalList = await call(
      worker,
      'GET',
      `${portalItemPath(tenant.requestId, itemId)}/documents`,
      tenant.contact.token,
    )
    expectStatus(portalList, 200)
    expectTrips(portalList, 1)
    expect(portalList.json.data).toEqual([completed.json])

    const download = await call(
      worker,
      'GET',
      `/v1/portal/documents/${body.documentId}/download`,
      tenant.contact.token,
    )
    expectStatus(download, 200)
    expectTrips(download, 1)
    const served = await fetch((download.json as { url: string }).url)
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes)
    expect(served.headers.get('content-disposition')).toBe(
      `attachment; filename="_bersicht Konten.pdf"; filename*=UTF-8''%C3%9Cbersicht%20Konten.pdf`,
    )
  })
})

describe('deleting a version', () => {
  it('is a soft delete by a manager, recorded, hidden from lists and downloads', async () => {
    const tenant = await seedTenant(worker.config)
    const itemId = tenant.itemIds[0] ?? ''
    const { completed } = await uploadVersion(tenant, itemId, pdfBytes(800), 'wrong.pdf')
    const documentId = String(completed.json.id)

    const removed = await call(
      worker,
      'DELETE',
      `/v1/documents/${documentId}`,
      tenant.staff.manager.token,
    )
    expectStatus(removed, 204)
    expectTrips(removed, 1)

    const again = await call(
      worker,
      'DELETE',
      `/v1/documents/${documentId}`,
      tenant.staff.manager.token,
    )
    expectStatus(again, 204)
    expect((await itemRecord(worker.config, itemId)).events).toEqual([
      'document.deleted',
      'document.uploaded',
      'item.submitted',
    ])

    const listed = await call(
      worker,
      'GET',
      `${itemPath(tenant.requestId, itemId)}/documents`,
      tenant.staff.member.token,
    )
    expect(listed.json.data).toEqual([])
    const withDeleted = await call(
      worker,
      'GET',
      `${itemPath(tenant.requestId, itemId)}/documents?includeDeleted=true`,
      tenant.staff.member.token,
    )
    expect(withDeleted.json.data).toMatchObject([{ id: documentId, deletedAt: expect.any(String) }])
    const download = await call(
      worker,
      'GET',
      `/v1/documents/${documentId}/download`,
      tenant.staff.member.token,
    )
    expectStatus(download, 404)
  })
})

describe('verification through the S3 API (STORAGE_VERIFY=s3)', () => {
  it('checks the object with a signed HEAD, hashes it with a signed GET, and records it', async () => {
    const viaS3 = await startApiWorker({ STORAGE_VERIFY: 's3' })
    try {
      const tenant = await seedTenant(viaS3.config)
      const itemId = tenant.itemIds[0] ?? ''
      const bytes = pdfBytes(2500, 9)
      const intent = await call(
        viaS3,
        'POST',
        `${itemPath(tenant.requestId, itemId)}/uploads`,
        tenant.staff.member.token,
        {
          filename: 'via-s3.pdf',
          contentType: 'application/pdf',
          sizeBytes: bytes.length,
          checksumSha256: await sha256Hex(bytes),
        },
      )
      expectStatus(intent, 201)
      const body = intentOf(intent)

      const early = await call(viaS3, 'POST', body.completePath, tenant.staff.member.token)
      expectStatus(early, 409)
      expect((await putObject(body, bytes)).status).toBe(200)
      const completed = await call(viaS3, 'POST', body.completePath, tenant.staff.member.token)
      expectStatus(completed, 201)
      expectTrips(completed, 1)
      expect(completed.json).toMatchObject({ version: 1, sizeBytes: bytes.length })

      // The same storage code, run here against the Worker's real S3 endpoint.
      const storage = createStorage({ ...viaS3.config, STORAGE_VERIFY: 's3' })
      const key = objectKey({
        organizationId: tenant.organizationId,
        requestId: tenant.requestId,
        itemId,
        documentId: body.documentId,
      })
      expect(await storage.head(key)).toEqual({
        size: bytes.length,
        contentType: 'application/pdf',
        declaredSha256: await sha256Hex(bytes),
      })
      expect(await storage.head(`${key}-missing`)).toBeNull()
      const forged = createStorage({
        ...viaS3.config,
        STORAGE_VERIFY: 's3',
        S3_SECRET_ACCESS_KEY: 'wrong',
      })
      await expect(forged.head(key)).rejects.toThrow('S3 HEAD answered 403')
    } finally {
      await viaS3.stop()
    }
  })

  it('answers 503 and records nothing when the store does not answer', async () => {
    // Port 9 (discard) on loopback: nothing listens there, so every S3 call fails to connect.
    const unreachable = await startApiWorker({
      STORAGE_VERIFY: 's3',
      S3_ENDPOINT: 'http://127.0.0.1:9/cdn-cgi/local/r2/s3',
    })
    try {
      const tenant = await seedTenant(unreachable.config)
      const itemId = tenant.itemIds[0] ?? ''
      const intent = await call(
        unreachable,
        'POST',
        `${itemPath(tenant.requestId, itemId)}/uploads`,
        tenant.staff.member.token,
        {
          filename: 'a.pdf',
          contentType: 'application/pdf',
          sizeBytes: 10,
        },
      )
      expectStatus(intent, 201)

      const completed = await call(
        unreachable,
        'POST',
        intentOf(intent).completePath,
        tenant.staff.member.token,
      )

      expectStatus(completed, 503)
      expect(completed.json).toMatchObject({
        code: 'dependency_unavailable',
        dependency: 'storage',
      })
      expect(completed.dbTrips).toBe(0)
      expect(await itemRecord(unreachable.config, itemId)).toMatchObject({
        versions: 0,
        events: [],
      })
    } finally {
      await unreachable.stop()
    }
  })
})
