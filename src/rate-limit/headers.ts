import type { LimitDecision } from '../cache/store'
import type { Policy } from './policies'

// Fields of draft-ietf-httpapi-ratelimit-headers (-10/-11): Structured Field lists whose
// items are the quoted policy name with parameters; q quota, w window, r remaining and
// t seconds until the quota resets.

/** `RateLimit-Policy`: the same on every response, so clients can plan. */
export const policyField = (policy: Policy) =>
  `"${policy.name}";q=${policy.quota};w=${policy.windowSeconds}`

/** Whole seconds until `resetAt`, never below 1 (Retry-After must be a positive integer). */
export const secondsUntil = (resetAt: number, now = Date.now()) =>
  Math.max(1, Math.ceil((resetAt - now) / 1000))

/** `RateLimit`: what is left of the quota now. */
export const limitField = (policy: Policy, decision: LimitDecision, now = Date.now()) =>
  `"${policy.name}";r=${decision.remaining};t=${secondsUntil(decision.resetAt, now)}`
