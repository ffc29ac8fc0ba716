// docs/r2-cors.json is what `wrangler r2 bucket cors set` applies to the production bucket.
// A browser preflights every header the presigned PUT needs: the rules must allow each one.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import corsRules from '../../docs/r2-cors.json'
import { presignUpload } from '../../src/documents/signer'
import { loadConfig } from '../../src/env'

// Browsers set these themselves; scripts may not, so they never appear in a preflight.
const setByTheBrowser = new Set(['host', 'content-length'])

describe('the R2 CORS rules', () => {
  it('allow every header and method a direct upload and download use', async () => {
    const upload = await presignUpload(loadConfig(env), 'org/request/item/document', {
      contentType: 'application/pdf',
      sizeBytes: 10,
      contentDisposition: `attachment; filename="a.pdf"; filename*=UTF-8''a.pdf`,
      checksumSha256: 'f'.repeat(64),
    })
    const signed = new URL(upload.url).searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? []
    const [rule] = corsRules.rules

    expect(corsRules.rules).toHaveLength(1)
    expect(rule?.allowed.methods).toEqual(expect.arrayContaining(['PUT', 'GET']))
    for (const header of signed.filter((name) => !setByTheBrowser.has(name))) {
      expect(rule?.allowed.headers, header).toContain(header)
    }
    expect(rule?.exposeHeaders).toContain('Content-Disposition')
    expect(rule?.allowed.origins.every((origin) => origin.startsWith('https://'))).toBe(true)
  })
})
