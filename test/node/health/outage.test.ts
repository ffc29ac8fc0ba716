// A dependency that goes away while the Worker runs: readiness names it, API routes answer
// 503 problem+json (or, for the cache, carry on), and everything recovers when it returns,
// without restarting the Worker. The suite runs its own database endpoint so it can stop it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import type { Backend } from '../../../scripts/local-stack/backend.ts'
import { applyMigrations, extensionsInMigrations } from '../../../scripts/local-stack/migrate.ts'
import { type NeonEndpoint, startNeonEndpoint } from '../../../scripts/local-stack/neon-endpoint.ts'
import { MEMORY_DATA_DIR, openPgliteBackend } from '../../../scripts/local-stack/pglite-backend.ts'
import { openPostgresBackend } from '../../../scripts/local-stack/postgres-backend.ts'
import {
  startUpstashEndpoint,
  type UpstashEndpoint,
} from '../../../scripts/local-stack/upstash-endpoint.ts'
import { type ApiWorker, startApiWorker } from '../support/api-worker.ts'

const stack = inject('localStack')
const pgliteUrl = 'postgresql://local:local@pglite.localhost/app'
const redisUrl = process.env.TEST_REDIS_URL

let backend: Backend
let neon: NeonEndpoint
let upstash: UpstashEndpoint | undefined
let worker: ApiWorker

beforeAll(async () => {
  // The real server when the suite has one (CI), else a PGlite of this file's own.
  backend =
    stack.database === 'postgres'
      ? await openPostgresBackend({ url: stack.databaseUrl })
      : await openPgliteBackend({ dataDir: MEMORY_DATA_DIR, extensions: extensionsInMigrations() })
  neon = await startNeonEndpoint({ backend })
  const databaseUrl = stack.database === 'postgres' ? stack.databaseUrl : pgliteUrl
  if (stack.database !== 'postgres') {
    await applyMigrations({ databaseUrl, fetchEndpoint: neon.url })
  }
  if (redisUrl) upstash = await startUpstashEndpoint({ redisUrl, token: 'outage-token' })

  worker = await startApiWorker({
    DATABASE_URL: databaseUrl,
    NEON_FETCH_ENDPOINT: neon.url,
    ...(upstash
      ? {
          CACHE_BACKEND: 'upstash',
          UPSTASH_REDIS_REST_URL: upstash.url,
          UPSTASH_REDIS_REST_TOKEN: 'outage-token',
        }
      : {}),
  })
})

afterAll(async () => {
  await worker?.stop()
  await upstash?.close()
  await neon?.close()
  await backend?.close()
})

async function readiness() {
  const response = await worker.fetch('/health/ready')
  return { status: response.status, body: (await response.json()) as { failing: string[] } }
}

async function signUp() {
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
  const response = await worker.fetch('/v1/auth/signup', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${tag.length}` },
    body: JSON.stringify({
      organization: { name: `Outage ${tag}`, slug: `outage-${tag}` },
      owner: { name: 'Owner', email: `owner-${tag}@outage.test`, password: 'a long enough password' },
    }),
  })
  const body = (await response.json()) as { accessToken: string }
  expect(response.status, JSON.stringify(body)).toBe(201)
  return body.accessToken
}

describe('the database goes away and comes back', () => {
  it('turns readiness and API routes into 503s, then recovers without a restart', async () => {
    const token = await signUp()
    expect((await readiness()).status).toBe(200)

    const port = neon.port
    await neon.close()

    const down = await readiness()
    expect(down.status).toBe(503)
    expect(down.body.failing).toEqual(['database'])

    const refused = await worker.fetch('/v1/me', { headers: { authorization: `Bearer ${token}` } })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await refused.json()) as Record<string, unknown>
    expect(problem).toMatchObject({ code: 'dependency_unavailable', dependency: 'database' })
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)

    neon = await startNeonEndpoint({ backend, port })

    expect((await readiness()).status).toBe(200)
    const back = await worker.fetch('/v1/me', { headers: { authorization: `Bearer ${token}` } })
    expect(back.status).toBe(200)
  })
})

describe.skipIf(!redisUrl)('the cache goes away and comes back (needs TEST_REDIS_URL)', () => {
  it('names the cache in readiness while API reads carry on from the database', async () => {
    const token = await signUp()
    const port = upstash?.port ?? 0
    await upstash?.close()

    const down = await readiness()
    expect(down.status).toBe(503)
    expect(down.body.failing).toEqual(['cache'])

    const served = await worker.fetch('/v1/requests', { headers: { authorization: `Bearer ${token}` } })
    expect(served.status, await served.clone().text()).toBe(200)

    upstash = await startUpstashEndpoint({ redisUrl: redisUrl ?? '', token: 'outage-token', port })
    expect((await readiness()).status).toBe(200)
  })
})
