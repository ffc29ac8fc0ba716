import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { createHttpMailer, MailDeliveryError } from '../../src/email/http-mailer'
import type { Mail } from '../../src/email/mailer'
import { ConfigError, loadConfig } from '../../src/env'
import { config } from '../access/tenant'

const mail: Mail = {
  kind: 'portal_sign_in',
  to: 'pat@client.test',
  subject: 'Your link',
  text: 'https://portal.example/sign-in/x',
  organizationId: null,
}

const httpConfig = () => ({
  ...config(),
  EMAIL_BACKEND: 'http' as const,
  EMAIL_API_URL: 'http://127.0.0.1:9/send',
  EMAIL_API_KEY: 'test-key',
})

describe('HTTP mailer', () => {
  it('POSTs one JSON message with the bearer key, and stages nothing in the database', async () => {
    const seen: Request[] = []
    const fakeFetch: typeof fetch = async (input, init) => {
      seen.push(new Request(input, init))
      return new Response('{"id":"m1"}', { status: 202 })
    }
    const mailer = createHttpMailer(httpConfig(), fakeFetch)

    expect(mailer.stage(mail, sql`true`)).toEqual([])
    await mailer.deliver(mail)

    expect(seen).toHaveLength(1)
    const request = seen[0] as Request
    expect(request.method).toBe('POST')
    expect(request.url).toBe('http://127.0.0.1:9/send')
    expect(request.headers.get('authorization')).toBe('Bearer test-key')
    expect(await request.json()).toEqual({
      from: httpConfig().EMAIL_FROM,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      tags: { kind: 'portal_sign_in' },
    })
  })

  it('throws when the provider refuses', async () => {
    const mailer = createHttpMailer(httpConfig(), async () => new Response('no', { status: 401 }))
    await expect(mailer.deliver(mail)).rejects.toBeInstanceOf(MailDeliveryError)
  })
})

describe('local outbox', () => {
  it('cannot be configured in production', () => {
    const production = {
      ...env,
      APP_ENV: 'production',
      EMAIL_BACKEND: 'outbox',
      NEON_FETCH_ENDPOINT: undefined,
    }
    expect(() => loadConfig(production)).toThrow(ConfigError)
  })

  it('is not reachable in production: the dev route answers like an unknown route', async () => {
    const production = {
      ...env,
      APP_ENV: 'production',
      EMAIL_BACKEND: 'http',
      EMAIL_API_URL: 'http://127.0.0.1:9/send',
      EMAIL_API_KEY: 'test-key',
      NEON_FETCH_ENDPOINT: undefined,
    }
    const app = createApp()
    const dev = await app.request('/v1/dev/outbox', {}, production)
    const unknown = await app.request('/v1/dev/nothing', {}, production)
    expect(dev.status, await dev.clone().text()).toBe(404)
    const strip = async (response: Response) => {
      const body = (await response.json()) as Record<string, unknown>
      const { requestId: _id, instance: _instance, detail: _detail, ...rest } = body
      return rest
    }
    expect(await strip(dev)).toEqual(await strip(unknown))

    const openapi = (await (await app.request('/openapi.json', {}, production)).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(openapi.paths)).not.toContain('/v1/dev/outbox')
  })
})
