import { env } from 'cloudflare:workers'

/** A string binding vitest.config.ts injects; a missing one fails loudly. */
export function binding(name: string): string {
  const value: unknown = Reflect.get(env, name)
  if (typeof value !== 'string' || value === '') {
    throw new Error(`binding ${name} is missing; vitest.config.ts injects it`)
  }
  return value
}

const optional = (name: string) => {
  const value: unknown = Reflect.get(env, name)
  return typeof value === 'string' && value !== '' ? value : undefined
}

export const upstashConfigured = optional('UPSTASH_REDIS_REST_URL') !== undefined
export const upstashSkipReason =
  'skipped: TEST_REDIS_URL is not set, so no Upstash endpoint runs ' +
  '(run with TEST_REDIS_URL=redis://127.0.0.1:6379/15)'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
