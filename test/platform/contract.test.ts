// The shared contract of every route: problem+json errors, request ids, Server-Timing,
// CORS, secure headers, body limits and media types. Runs through the real Worker.
import { createRoute, z } from '@hono/zod-openapi'
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { jsonBody } from '../../src/platform/openapi'

const origin = 'http://api.test'

async function problem(response: Response) {
  expect(response.headers.get('content-type'), await response.clone().text()).toBe(
    'application/problem+json',
  )
  return (await response.json()) as Record<string, unknown>
}

/** The real app plus one probe route, to exercise body handling without a feature's rules. */
function appWithProbe() {
  const app = createApp()
  const probe = createRoute({
    method: 'post',
    path: '/probe',
    request: {
      body: jsonBody(
        z.strictObject({
          title: z.string().min(1),
          items: z.array(z.strictObject({ reference: z.string().min(1) })).max(3),
        }),
      ),
    },
    responses: { 200: { description: 'echo' } },
  })
  app.openapi(probe, (c) => c.json(c.req.valid('json'), 200))
  return app
}

const post = (body: string, headers: Record<string, string> = {}) =>
  appWithProbe().request(
    '/probe',
    { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } },
    env,
  )

describe('every response', () => {
  it('carries a request id, Server-Timing and secure headers', async () => {
    const response = await SELF.fetch(`${origin}/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.get('server-timing')).toMatch(
      /^db;dur=[\d.]+;desc="0", cache;dur=[\d.]+;desc="0", total;dur=[\d.]+$/,
    )
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('strict-transport-security')).toContain('max-age=')
  })

  it('keeps a well-formed incoming request id and replaces a malformed one', async () => {
    const kept = await SELF.fetch(`${origin}/health`, { headers: { 'x-request-id': 'client-1234-abcd' } })
    expect(kept.headers.get('x-request-id')).toBe('client-1234-abcd')

    const replaced = await SELF.fetch(`${origin}/health`, {
      headers: { 'x-request-id': 'bad id\twith"quotes' },
    })
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('errors', () => {
  it('answers an unknown route with a 404 problem carrying the request id', async () => {
    const response = await SELF.fetch(`${origin}/v1/no-such-thing`)
    expect(response.status).toBe(404)
    const body = await problem(response)
    expect(body).toMatchObject({
      type: 'urn:currentmesh:problem:not_found',
      title: 'Not found',
      status: 404,
      code: 'not_found',
      instance: '/v1/no-such-thing',
      requestId: response.headers.get('x-request-id'),
    })
  })

  it('lists every failing field with its path, and never zod output', async () => {
    const response = await post(JSON.stringify({ title: '', items: [{ reference: 'A-1' }, {}] }))
    expect(response.status).toBe(400)
    const body = await problem(response)
    expect(body.code).toBe('validation_failed')
    const paths = (body.errors as { path: string }[]).map((error) => error.path).sort()
    expect(paths).toEqual(['body.items.1.reference', 'body.title'])
    expect(JSON.stringify(body)).not.toMatch(/issues|ZodError|"expected"/)
  })

  it('refuses unknown fields by name', async () => {
    const response = await post(JSON.stringify({ title: 'x', items: [], isAdmin: true }))
    const body = await problem(response)
    expect(response.status).toBe(400)
    expect(body.errors).toEqual([{ path: 'body.isAdmin', message: 'Unknown field', code: 'unknown_field' }])
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    const response = await post('{"title": "x", ')
    expect(response.status).toBe(400)
    expect((await problem(response)).code).toBe('invalid_json')
  })

  it('answers a body that is not JSON with 415', async () => {
    const response = await post('title=x', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(response.status).toBe(415)
    expect((await problem(response)).code).toBe('unsupported_media_type')
  })

  it('answers a body over the limit with 413 before parsing it', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(Number(env.MAX_BODY_BYTES ?? 1048576) + 10), items: [] })
    const response = await post(big)
    expect(response.status).toBe(413)
    expect((await problem(response)).code).toBe('payload_too_large')
  })

  it('answers an unexpected exception with a 500 that leaks nothing', async () => {
    const app = createApp()
    app.get('/explode', () => {
      throw new Error('select password_hash from users -- secret detail')
    })
    const response = await app.request('/explode', {}, env)
    expect(response.status).toBe(500)
    const body = await problem(response)
    expect(body.code).toBe('internal')
    expect(JSON.stringify(body)).not.toContain('password_hash')
  })

  it('names the missing variable when the configuration is incomplete', async () => {
    const { JWT_SECRET: _secret, ...incomplete } = env as Record<string, unknown>
    const response = await createApp().request('/health', {}, { ...incomplete, S3_BUCKET: '' })
    expect(response.status).toBe(500)
    const body = await problem(response)
    expect(body.code).toBe('misconfigured')
    expect(body.detail).toContain('JWT_SECRET')
    expect(body.detail).toContain('S3_BUCKET')
    expect(body.detail).not.toContain(String(env.S3_SECRET_ACCESS_KEY))
  })

  it('refuses the local outbox and a local database endpoint in production', async () => {
    const production = { ...(env as Record<string, unknown>), APP_ENV: 'production' }
    const response = await createApp().request('/health', {}, production)
    const body = await problem(response)
    expect(body.detail).toContain('EMAIL_BACKEND')
    expect(body.detail).toContain('NEON_FETCH_ENDPOINT')
  })
})

describe('CORS', () => {
  it('allows a listed origin and exposes the headers clients need', async () => {
    const allowed = String(env.APP_ORIGINS).split(',')[0] ?? ''
    const response = await SELF.fetch(`${origin}/health`, { headers: { origin: allowed } })
    expect(response.headers.get('access-control-allow-origin')).toBe(allowed)
    expect(response.headers.get('access-control-expose-headers')).toContain('server-timing')
  })

  it('does not allow an origin that is not listed', async () => {
    const response = await SELF.fetch(`${origin}/health`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('health and docs', () => {
  it('reports readiness with one database round trip and each dependency latency', async () => {
    const response = await SELF.fetch(`${origin}/health/ready`)
    const body = (await response.json()) as { status: string; dependencies: Record<string, { status: string }> }
    expect(response.status, JSON.stringify(body)).toBe(200)
    expect(body.status).toBe('ready')
    expect(Object.keys(body.dependencies).sort()).toEqual(['cache', 'database', 'storage'])
    expect(response.headers.get('server-timing')).toMatch(/db;dur=[\d.]+;desc="1"/)
  })

  it('answers 503 naming the database when it is unreachable', async () => {
    const unreachable = {
      ...(env as Record<string, unknown>),
      // A port nothing listens on: the driver's fetch fails like a network outage.
      NEON_FETCH_ENDPOINT: 'http://127.0.0.1:9/sql',
    }
    const response = await createApp().request('/health/ready', {}, unreachable)
    const body = (await response.json()) as { failing: string[] }
    expect(response.status).toBe(503)
    expect(body.failing).toEqual(['database'])
  })

  it('serves an OpenAPI 3.1 document and the reference page', async () => {
    const spec = await SELF.fetch(`${origin}/openapi.json`)
    const document = (await spec.json()) as { openapi: string; paths: Record<string, unknown> }
    expect(document.openapi).toBe('3.1.0')
    expect(Object.keys(document.paths)).toContain('/health/ready')

    const page = await SELF.fetch(`${origin}/docs`)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js')
  })
})

describe('values the database refuses', () => {
  it('answers a NUL character that reached SQL with 400, not 500', async () => {
    const { sql } = await import('drizzle-orm')
    const app = createApp()
    app.get('/nul', async (c) => {
      await c.var.db.execute(sql`select ${'a\u0000b'}::text`)
      return c.json({ unreachable: true })
    })
    const response = await app.request('/nul', {}, env)
    expect(response.status).toBe(400)
    expect((await problem(response)).code).toBe('bad_request')
  })
})

describe('methods', () => {
  it('answers a known path with an unsupported method with 405 and Allow', async () => {
    const response = await SELF.fetch(`${origin}/v1/clients`, { method: 'PUT' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, POST')
    expect((await problem(response)).code).toBe('method_not_allowed')
  })

  it('answers a path with parameters the same way, and an unknown one with 404', async () => {
    const known = await SELF.fetch(`${origin}/v1/requests/${crypto.randomUUID()}`, { method: 'POST' })
    expect(known.status).toBe(405)
    expect(known.headers.get('allow')).toContain('PATCH')
    expect((await SELF.fetch(`${origin}/v1/nothing/here`, { method: 'PUT' })).status).toBe(404)
  })
})
