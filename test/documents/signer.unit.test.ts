// Pins what the presigner signs: the scope R2 expects, the configured lifetime, and every
// header that makes a URL good for exactly one upload of exactly these bytes.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { amzDate, presignDownload, presignUpload } from '../../src/documents/signer'
import { loadConfig } from '../../src/env'

const config = { ...loadConfig(env), UPLOAD_URL_TTL_SECONDS: 240, DOWNLOAD_URL_TTL_SECONDS: 45 }
const key = 'org/request/item/6f9c3b52-9a51-4a43-9d0b-1d2f8e1c0a11'
const now = new Date('2026-12-03T21:56:08.853Z')
const terms = {
  contentType: 'application/pdf',
  sizeBytes: 482113,
  contentDisposition: `attachment; filename="a.pdf"; filename*=UTF-8''a.pdf`,
}

describe('an upload URL', () => {
  it('is scoped to region auto and service s3, for the configured lifetime', async () => {
    const signed = await presignUpload(config, key, terms, now)
    const query = new URL(signed.url).searchParams

    expect(query.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256')
    expect(query.get('X-Amz-Credential')).toBe(
      `${config.S3_ACCESS_KEY_ID}/20261203/auto/s3/aws4_request`,
    )
    expect(query.get('X-Amz-Credential')).toMatch(/\/auto\/s3\/aws4_request$/)
    expect(query.get('X-Amz-Date')).toBe('20261203T215608Z')
    expect(query.get('X-Amz-Expires')).toBe('240')
    expect(signed.expiresAt.toISOString()).toBe('2026-12-03T22:00:08.000Z')
    expect(query.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
  })

  it('signs content-length, content-type, host and if-none-match', async () => {
    const signed = await presignUpload(config, key, terms, now)
    const signedHeaders = new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')?.split(';')

    expect(signedHeaders).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host', 'if-none-match']),
    )
    expect(signedHeaders).toEqual([
      'content-disposition',
      'content-length',
      'content-type',
      'host',
      'if-none-match',
    ])
    expect(signed.headers).toEqual({
      'content-type': 'application/pdf',
      'content-length': '482113',
      'content-disposition': terms.contentDisposition,
      'if-none-match': '*',
    })
  })

  it('adds the declared checksum as signed metadata when there is one', async () => {
    const checksum = 'a'.repeat(64)
    const signed = await presignUpload(config, key, { ...terms, checksumSha256: checksum }, now)

    expect(new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')).toContain(
      'x-amz-meta-sha256',
    )
    expect(signed.headers['x-amz-meta-sha256']).toBe(checksum)
  })

  it('puts the object under the bucket, path-style, with only the server-chosen key', async () => {
    const signed = await presignUpload(config, key, terms, now)
    const url = new URL(signed.url)

    expect(`${url.origin}${url.pathname}`).toBe(`${config.S3_ENDPOINT}/${config.S3_BUCKET}/${key}`)
    expect(signed.method).toBe('PUT')
  })

  it('changes its signature when any signed term changes', async () => {
    const signature = async (changed: Partial<typeof terms>) =>
      new URL(
        (await presignUpload(config, key, { ...terms, ...changed }, now)).url,
      ).searchParams.get('X-Amz-Signature')

    const base = await signature({})
    expect(await signature({})).toBe(base)
    expect(await signature({ sizeBytes: terms.sizeBytes + 1 })).not.toBe(base)
    expect(await signature({ contentType: 'image/png' })).not.toBe(base)
  })
})

describe('a download URL', () => {
  it('is a short GET that asks for the original filename', async () => {
    const disposition = `attachment; filename="_bersicht.pdf"; filename*=UTF-8''%C3%9Cbersicht.pdf`
    const signed = await presignDownload(
      config,
      key,
      { contentDisposition: disposition, contentType: 'application/pdf' },
      now,
    )
    const query = new URL(signed.url).searchParams

    expect(signed.method).toBe('GET')
    expect(query.get('X-Amz-Expires')).toBe('45')
    expect(query.get('X-Amz-Credential')).toMatch(/\/20261203\/auto\/s3\/aws4_request$/)
    expect(query.get('X-Amz-SignedHeaders')).toBe('host')
    expect(query.get('response-content-disposition')).toBe(disposition)
    expect(query.get('response-content-type')).toBe('application/pdf')
    expect(signed.expiresAt.toISOString()).toBe('2026-12-03T21:56:53.000Z')
  })
})

describe('amzDate', () => {
  it('is the basic ISO 8601 form SigV4 uses', () => {
    expect(amzDate(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102T030405Z')
  })
})
