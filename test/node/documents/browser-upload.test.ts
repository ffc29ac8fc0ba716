// A real browser: headless Chromium (Debian's package) opens the development page the Worker
// serves, gets an upload URL from the API, PUTs the file straight to Miniflare's R2 S3
// endpoint with progress, completes, then lists the version and reads the bytes back.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ApiWorker, startApiWorker } from '../support/api-worker.ts'
import { itemRecord, seedTenant } from '../support/tenant.ts'
import { call, expectStatus, pdfBytes, sha256Hex } from './helpers.ts'

const executablePath = '/usr/bin/chromium'
const browserInstalled = existsSync(executablePath)
// CI sets REQUIRE_BROWSER=1 after installing chromium: there a missing browser is a failure.
const browserRequired = process.env.REQUIRE_BROWSER === '1'
const skipReason = `${executablePath} not found; install it with: apt-get install -y chromium`

interface PageResult {
  documentId: string
  uploadHost: string
  version: { id: string; version: number; filename: string; sizeBytes: number }
  listed: string[]
  progress: { loaded: number; total: number }[]
  uploadedSha256: string
  downloadedSha256: string
  downloadedBytes: number
  contentDisposition: string | null
}

let worker: ApiWorker | undefined

beforeAll(async () => {
  if (browserInstalled) worker = await startApiWorker()
})

afterAll(async () => {
  await worker?.stop()
})

describe('a browser upload', () => {
  it('is refused as a failure when CI requires the browser and it is missing', () => {
    expect(browserInstalled || !browserRequired, skipReason).toBe(true)
  })

  it('goes straight to storage with progress, is verified, listed and read back unchanged', async (context) => {
    if (!browserInstalled) context.skip(skipReason)
    if (!worker) throw new Error('worker did not start')
    const api = worker
    const tenant = await seedTenant(api.config)
    const itemId = tenant.itemIds[0] ?? ''
    const bytes = pdfBytes(3 * 1024 * 1024 + 17)

    // The page is served from localhost while the store is signed for 127.0.0.1: the PUT is
    // cross-origin, so the browser preflights it exactly as it would against R2.
    const pageOrigin = api.origin.replace('127.0.0.1', 'localhost')
    const profile = mkdtempSync(join(tmpdir(), 'currentmesh-chromium-'))
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    try {
      const page = await browser.newPage()
      // The store's CORS answer to the PUT, as the browser received it.
      const allowedOrigins: (string | undefined)[] = []
      page.on('response', (response) => {
        if (response.request().method() === 'PUT') {
          allowedOrigins.push(response.headers()['access-control-allow-origin'])
        }
      })

      await page.goto(`${pageOrigin}/dev/upload.html`)
      await page.fill('#token', tenant.staff.member.token)
      await page.fill('#requestId', tenant.requestId)
      await page.fill('#itemId', itemId)
      await page.setInputFiles('#file', {
        name: 'Trial balance FY2026.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from(bytes),
      })
      await page.click('#start')
      // Strings, not functions: they run in the page, whose DOM types this project lacks.
      await page.waitForFunction(`document.body.dataset.state !== 'running'`, undefined, {
        timeout: 30_000,
      })

      const failure = await page.evaluate<string | undefined>('window.uploadError')
      expect(failure).toBeUndefined()
      const result = await page.evaluate<PageResult>('window.uploadResult')

      expect(result.uploadHost).toBe(new URL(api.origin).host)
      expect(new URL(pageOrigin).host).not.toBe(result.uploadHost)
      expect(allowedOrigins).toEqual(['*'])
      expect(result.progress.length).toBeGreaterThan(0)
      expect(result.progress.at(-1)).toEqual({ loaded: bytes.length, total: bytes.length })
      expect(result.version).toMatchObject({
        id: result.documentId,
        version: 1,
        filename: 'Trial balance FY2026.pdf',
        sizeBytes: bytes.length,
      })
      expect(result.listed).toEqual([result.documentId])
      expect(result.uploadedSha256).toBe(await sha256Hex(bytes))
      expect(result.downloadedSha256).toBe(result.uploadedSha256)
      expect(result.downloadedBytes).toBe(bytes.length)
      expect(result.contentDisposition).toContain(`filename*=UTF-8''Trial%20balance%20FY2026.pdf`)
    } finally {
      await browser.close()
      rmSync(profile, { recursive: true, force: true })
    }

    // And the API agrees, outside the browser.
    expect(await itemRecord(api.config, itemId)).toMatchObject({ versions: 1, status: 'submitted' })
    const listed = await call(
      api,
      'GET',
      `/v1/requests/${tenant.requestId}/items/${itemId}/documents`,
      tenant.staff.member.token,
    )
    expectStatus(listed, 200)
  })
})
