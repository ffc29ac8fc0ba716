import { ApiError } from '../platform/errors'
import type { AppContext, AppMiddleware } from '../platform/hono'
import { describeError } from '../platform/logger'
import { clientAddress } from './client-ip'
import { limitField, policyField, secondsUntil } from './headers'
import { type Policy, type PolicyName, policiesFor } from './policies'

// How long a client refused for an unreachable limiter is asked to wait.
const unavailableRetrySeconds = 5

function partitionKey(c: AppContext, policy: Policy): string {
  if (policy.partition === 'ip') return `ip:${clientAddress(c)}`

  const principal = c.get('principal')
  if (!principal) throw new Error(`policy ${policy.name} needs an authenticated principal`)
  if (policy.partition === 'organization') return `org:${principal.organizationId}`
  return principal.kind === 'staff' ? `user:${principal.userId}` : `contact:${principal.contactId}`
}

/**
 * Spends one unit of `name`'s budget for this request, or refuses it with 429. Headers are
 * set before the handler runs, so success and error responses both carry them.
 */
export async function enforceRateLimit(c: AppContext, name: PolicyName): Promise<void> {
  const { config, store, log } = c.var
  const policy = policiesFor(config)[name]
  c.header('ratelimit-policy', policyField(policy), { append: true })

  const key = `${policy.name}:${partitionKey(c, policy)}`
  let decision
  try {
    decision = await store.limit(key, policy.quota, policy.windowSeconds)
  } catch (error) {
    log.warn('rate limiter unavailable', {
      policy: policy.name,
      failure: policy.failure,
      backend: store.backend,
      ...describeError(error),
    })
    if (policy.failure === 'open') return
    throw new ApiError('dependency_unavailable', {
      detail: 'Rate limiting is unavailable, so this credential route is closed; retry shortly.',
      headers: { 'retry-after': String(unavailableRetrySeconds) },
      extensions: { dependency: 'rate-limiter' },
      cause: error,
    })
  }

  const now = Date.now()
  c.header('ratelimit', limitField(policy, decision, now), { append: true })
  if (decision.allowed) return

  throw new ApiError('rate_limited', {
    detail: `The ${policy.name} limit of ${policy.quota} per ${policy.windowSeconds} s is used up.`,
    headers: { 'retry-after': String(secondsUntil(decision.resetAt, now)) },
    extensions: { policy: policy.name },
  })
}

/** Route middleware; for authenticated policies put it after `requireStaff`/`requirePortal`. */
export function rateLimit(name: PolicyName): AppMiddleware {
  return async function rateLimited(c, next) {
    await enforceRateLimit(c, name)
    await next()
  }
}
