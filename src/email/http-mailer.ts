import type { Config } from '../env'
import type { Mailer } from './mailer'

export class MailDeliveryError extends Error {
  readonly status: number

  constructor(status: number) {
    super(`email API answered ${status}`)
    this.name = 'MailDeliveryError'
    this.status = status
  }
}

// A provider that hangs must not keep the Worker's waitUntil alive for long.
const timeoutMs = 10_000

/**
 * Production mail: one JSON POST per message to a transactional email API, authenticated
 * with a bearer key. Nothing is staged in the database; delivery runs after commit.
 */
export function createHttpMailer(config: Config, send: typeof fetch = fetch): Mailer {
  const url = config.EMAIL_API_URL
  const key = config.EMAIL_API_KEY
  return {
    backend: 'http',
    stage: () => [],
    deliver: async (mail) => {
      // env.ts requires both when EMAIL_BACKEND is http; this guards a hand-built config.
      if (url === undefined || key === undefined) {
        throw new Error('EMAIL_API_URL or EMAIL_API_KEY missing')
      }
      const response = await send(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          from: config.EMAIL_FROM,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          tags: { kind: mail.kind },
        }),
        signal: AbortSignal.timeout(timeoutMs),
      })
      // The body is drained so the connection can be reused; its content is the provider's.
      await response.body?.cancel()
      if (!response.ok) throw new MailDeliveryError(response.status)
    },
  }
}
