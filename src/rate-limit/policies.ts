import type { Config } from '../env'

/**
 * What to do when the limiter cannot answer. Credential routes fail closed: an outage must
 * not open a window for password guessing. The authenticated API fails open: callers are
 * already identified, and refusing them all would turn a cache outage into an API outage.
 */
export type FailurePolicy = 'open' | 'closed'

/** Whose budget a request spends. */
export type Partition = 'ip' | 'principal' | 'organization'

export interface Policy {
  /** The name clients see in `RateLimit-Policy`; also part of the counter key. */
  name: string
  quota: number
  windowSeconds: number
  partition: Partition
  failure: FailurePolicy
}

export const policyNames = [
  'login',
  'signup',
  'refresh',
  'signin-links',
  'portal-sessions',
  'invitations',
  'api',
  'uploads',
] as const

export type PolicyName = (typeof policyNames)[number]

type Quota = { quota: number; windowSeconds: number }

const credential = (name: PolicyName, quota: Quota): Policy => ({
  name,
  ...quota,
  partition: 'ip',
  failure: 'closed',
})

/** Every policy with the limits configured for this deployment. */
export function policiesFor(config: Config): Record<PolicyName, Policy> {
  return {
    login: credential('login', config.RATE_LIMIT_LOGIN),
    signup: credential('signup', config.RATE_LIMIT_SIGNUP),
    refresh: credential('refresh', config.RATE_LIMIT_REFRESH),
    'signin-links': credential('signin-links', config.RATE_LIMIT_SIGNIN_LINKS),
    'portal-sessions': credential('portal-sessions', config.RATE_LIMIT_PORTAL_SESSIONS),
    invitations: credential('invitations', config.RATE_LIMIT_INVITATIONS),
    api: { name: 'api', ...config.RATE_LIMIT_API, partition: 'principal', failure: 'open' },
    uploads: {
      name: 'uploads',
      ...config.RATE_LIMIT_UPLOADS,
      partition: 'organization',
      failure: 'open',
    },
  }
}
