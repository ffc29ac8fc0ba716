// What is attacked: every way of bending a presigned URL is refused by the store itself
// (Miniflare's R2 S3 endpoint, over real HTTP), and the API then records nothing.
import { AwsClient, AwsV4Signer } from 'aws4fetch'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localS3Credentials } from '../../../scripts/local-config.ts'
import { type ApiWorker, startApiWorker } from '../support/api-worker.ts'
import { itemRecord, seedTenant, type Tenant } from '../support/tenant.ts'
import {
  call,
  expectStatus,
  type IntentBody,
  intentOf,
  itemPath,
  pdfBytes,
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

const store = new AwsClient({ ...localS3Credentials, service: 's3', region: 'auto', retries: 0 })

/** Whether the store holds an object at the URL's path, asked with the real credentials. */
async function stored(url: string) {
  const objectUrl = new URL(url)
  objectUrl.search = ''
  const response = await store.fetch(objectUrl.toString(), { method: 'HEAD' })
  return response.status === 200
}

async function intentFor(tenant: Tenant, bytes: Uint8Array, extra: Record<string, unknown> = {}) {
  const itemId = tenant.itemIds[0] ?? ''
  const result = await call(
    worker,
    'POST',
    `${itemPath(tenant.requestId, itemId)}/uploads`,
    tenant.staff.member.token,
    {
      filename: 'evidence.pdf',
      contentType: 'application/pdf',
      sizeBytes: bytes.length,
      ...extra,
    },
  )
  expectStatus(result, 201)
  return { itemId, intent: intentOf(result) }
}

/** The refusal left no object, and completing finds nothing and records nothing. */
async function expectNothingRecorded(tenant: Tenant, itemId: string, intent: IntentBody) {
  expect(await stored(intent.upload.url)).toBe(false)
  const completed = await call(worker, 'POST', intent.completePath, tenant.staff.member.token)
  expectStatus(completed, 409)
  expect(await itemRecord(worker.config, itemId)).toMatchObject({
    versions: 0,
    completedIntents: 0,
    events: [],
    status: 'open',
  })
}

describe('the store refuses a bent URL', () => {
  it('with a tampered key', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1200)
    const { itemId, intent } = await intentFor(tenant, bytes)

    const tampered = new URL(intent.upload.url)
    tampered.pathname = tampered.pathname.replace(intent.documentId, crypto.randomUUID())
    const put = await putObject(intent, bytes, { url: tampered.toString() })

    expect(put.status, put.text).toBe(403)
    expect(put.text).toContain('SignatureDoesNotMatch')
    expect(await stored(tampered.toString())).toBe(false)
    await expectNothingRecorded(tenant, itemId, intent)
  })

  it('signed with a wrong secret', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1300)
    const { itemId, intent } = await intentFor(tenant, bytes)

    const unsigned = new URL(intent.upload.url)
    for (const name of [...unsigned.searchParams.keys()]) unsigned.searchParams.delete(name)
    unsigned.searchParams.set('X-Amz-Expires', '300')
    const forged = await new AwsV4Signer({
      method: 'PUT',
      url: unsigned.toString(),
      headers: intent.upload.headers,
      accessKeyId: localS3Credentials.accessKeyId,
      secretAccessKey: 'not-the-secret-key',
      service: 's3',
      region: 'auto',
      signQuery: true,
      allHeaders: true,
    }).sign()
    const put = await putObject(intent, bytes, { url: forged.url.toString() })

    expect(put.status, put.text).toBe(403)
    expect(put.text).toContain('SignatureDoesNotMatch')
    await expectNothingRecorded(tenant, itemId, intent)
  })

  it('with a changed content type', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1400)
    const { itemId, intent } = await intentFor(tenant, bytes)

    const put = await putObject(intent, bytes, { headers: { 'content-type': 'text/html' } })

    expect(put.status, put.text).toBe(403)
    expect(put.text).toContain('SignatureDoesNotMatch')
    await expectNothingRecorded(tenant, itemId, intent)
  })

  it('with a changed length', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1500)
    const { itemId, intent } = await intentFor(tenant, bytes)

    const longer = await putObject(intent, pdfBytes(1501))
    const shorter = await putObject(intent, pdfBytes(1499))

    expect(longer.status, longer.text).toBe(403)
    expect(shorter.status, shorter.text).toBe(403)
    await expectNothingRecorded(tenant, itemId, intent)
  })

  it('without If-None-Match, so it could overwrite', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1550)
    const { itemId, intent } = await intentFor(tenant, bytes)

    const { 'if-none-match': _dropped, ...rest } = intent.upload.headers
    const put = await putObject({ ...intent, upload: { ...intent.upload, headers: rest } }, bytes)

    expect(put.status, put.text).toBe(403)
    await expectNothingRecorded(tenant, itemId, intent)
  })

  it('after it expired', async () => {
    const shortLived = await startApiWorker({ UPLOAD_URL_TTL_SECONDS: '1' })
    try {
      const tenant = await seedTenant(shortLived.config)
      const itemId = tenant.itemIds[0] ?? ''
      const bytes = pdfBytes(1600)
      const result = await call(
        shortLived,
        'POST',
        `${itemPath(tenant.requestId, itemId)}/uploads`,
        tenant.staff.member.token,
        {
          filename: 'late.pdf',
          contentType: 'application/pdf',
          sizeBytes: bytes.length,
        },
      )
      expectStatus(result, 201)
      const intent = intentOf(result)
      expect(new URL(intent.upload.url).searchParams.get('X-Amz-Expires')).toBe('1')

      // X-Amz-Date has whole seconds: two and a half seconds is past any rounding.
      await new Promise((resolve) => setTimeout(resolve, 2500))
      const put = await putObject(intent, bytes)

      expect(put.status, put.text).toBe(403)
      expect(put.text).toContain('ExpiredRequest')
      const completed = await call(
        shortLived,
        'POST',
        intent.completePath,
        tenant.staff.member.token,
      )
      expectStatus(completed, 409)
      expect(await itemRecord(shortLived.config, itemId)).toMatchObject({ versions: 0, events: [] })
    } finally {
      await shortLived.stop()
    }
  })
})

describe('an upload URL works once', () => {
  it('a second PUT to the same URL is refused and the first bytes stay', async () => {
    const tenant = await seedTenant(worker.config)
    const first = pdfBytes(1700, 1)
    const { itemId, intent } = await intentFor(tenant, first)

    const put = await putObject(intent, first)
    expect(put.status, put.text).toBe(200)
    const again = await putObject(intent, pdfBytes(1700, 2))
    expect(again.status, again.text).toBe(412)

    const completed = await call(worker, 'POST', intent.completePath, tenant.staff.member.token)
    expectStatus(completed, 201)
    const link = await call(
      worker,
      'GET',
      `/v1/documents/${intent.documentId}/download`,
      tenant.staff.member.token,
    )
    const served = await fetch((link.json as { url: string }).url)
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(first)

    // Even after completion the URL cannot replace the verified version.
    const late = await putObject(intent, pdfBytes(1700, 3))
    expect(late.status, late.text).toBe(412)
    expect((await itemRecord(worker.config, itemId)).versions).toBe(1)
  })
})

describe('completion checks the stored object against the intent', () => {
  it('refuses bytes that do not have the declared SHA-256 and records nothing', async () => {
    const tenant = await seedTenant(worker.config)
    const declared = pdfBytes(1800, 1)
    const { itemId, intent } = await intentFor(tenant, declared, {
      checksumSha256: await sha256Hex(declared),
    })

    // Same length and type, so the signature holds; only the content differs.
    const put = await putObject(intent, pdfBytes(1800, 2))
    expect(put.status, put.text).toBe(200)

    const completed = await call(worker, 'POST', intent.completePath, tenant.staff.member.token)
    expectStatus(completed, 422)
    expect(completed.json).toMatchObject({
      code: 'unprocessable',
      errors: [{ path: 'object.checksumSha256', code: 'checksum_mismatch' }],
    })
    expect(await itemRecord(worker.config, itemId)).toMatchObject({
      versions: 0,
      completedIntents: 0,
      events: [],
      status: 'open',
    })
  })

  it('accepts bytes with the declared SHA-256 in either letter case', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1900)
    const { intent } = await intentFor(tenant, bytes, {
      checksumSha256: (await sha256Hex(bytes)).toUpperCase(),
    })

    expect((await putObject(intent, bytes)).status).toBe(200)
    const completed = await call(worker, 'POST', intent.completePath, tenant.staff.member.token)
    expectStatus(completed, 201)
    expect(completed.json.checksumSha256).toBe(await sha256Hex(bytes))
  })
})

describe('filenames never reach the key', () => {
  it('a path-like filename is stored sanitized and the key stays server-chosen', async () => {
    const tenant = await seedTenant(worker.config)
    const bytes = pdfBytes(1000)
    const { intent } = await intentFor(tenant, bytes, { filename: '../../other-org/secret.pdf' })

    expect(new URL(intent.upload.url).pathname).not.toContain('secret')
    expect(new URL(intent.upload.url).pathname).not.toContain('..')
    expect((await putObject(intent, bytes)).status).toBe(200)
    const completed = await call(worker, 'POST', intent.completePath, tenant.staff.member.token)
    expect(completed.json.filename).toBe('secret.pdf')
  })
})
