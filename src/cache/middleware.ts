import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppContext, AppMiddleware } from '../platform/hono'
import {
  type CachedResponse,
  type CacheScope,
  isCacheScope,
  normalizedQuery,
} from './response-cache'
import { sha256Hex } from '../platform/digest'
import { ifNoneMatchHolds } from '../platform/etag'

// Headers a cached answer repeats; everything else (request id, rate limits, timing) is
// per request and added by the middleware around this one.
const keptHeaders = ['content-type', 'etag', 'cache-control', 'vary', 'last-modified']
// A 304 repeats the validators and caching headers only (RFC 9110 §15.4.5).
const notModifiedHeaders = ['etag', 'cache-control', 'vary', 'last-modified']

// Larger answers are served but not stored: a REST request to Upstash is capped near 1 MB,
// and a list page of at most 100 rows stays far below this.
const maxStoredBytes = 512 * 1024

// How often a request waiting on another request's refill looks again.
const localPollMs = 5
const storePollMs = [20, 40, 80, 100]

interface Flight {
  done: boolean
  response: CachedResponse | undefined
}

/**
 * Refills in progress in this isolate, by entry and the versions it was built on. Waiters
 * read the leader's result from here instead of awaiting its promise: a promise settled by
 * another request's I/O is not something a Worker should depend on.
 */
const flights = new Map<string, Flight>()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function pick(headers: Headers | Record<string, string>, names: readonly string[]) {
  const picked: Record<string, string> = {}
  for (const name of names) {
    const value = headers instanceof Headers ? headers.get(name) : headers[name]
    if (value !== null && value !== undefined) picked[name] = value
  }
  return picked
}

function mark(c: AppContext, result: 'HIT' | 'MISS' | 'BYPASS') {
  c.var.meter.cacheResult = result
  c.header('x-cache', result)
}

function answer(c: AppContext, response: CachedResponse, result: 'HIT') {
  mark(c, result)
  if (ifNoneMatchHolds(c.req.header('if-none-match'), response.headers.etag)) {
    return c.body(null, 304, pick(response.headers, notModifiedHeaders))
  }
  return c.body(response.body, response.status as ContentfulStatusCode, response.headers)
}

/**
 * After the handler: gives a 200 JSON answer an ETag if it has none (a hash of the body, so
 * cached and uncached answers carry the same one), honours If-None-Match, and returns what
 * may be stored.
 */
async function settle(c: AppContext): Promise<CachedResponse | undefined> {
  const res = c.res
  const type = res.headers.get('content-type') ?? ''
  if (res.status !== 200 || !/json/i.test(type)) return undefined

  const body = await res.clone().text()
  let etag = res.headers.get('etag') ?? undefined
  if (etag === undefined) {
    etag = `W/"${(await sha256Hex(body)).slice(0, 32)}"`
    c.header('etag', etag)
  }

  const headers = pick(c.res.headers, keptHeaders)
  if (ifNoneMatchHolds(c.req.header('if-none-match'), etag)) {
    c.res = new Response(null, { status: 304, headers: pick(headers, notModifiedHeaders) })
  }
  if (body.length > maxStoredBytes) return undefined
  return { status: 200, headers, body }
}

/** Lets the handler answer from the database, still with the same ETag rules. */
async function fromDatabase(c: AppContext, next: () => Promise<void>, result: 'MISS' | 'BYPASS') {
  mark(c, result)
  await next()
  await settle(c)
  return undefined
}

async function waitForFlight(flight: Flight, timeoutMs: number) {
  for (let waited = 0; !flight.done && waited < timeoutMs; waited += localPollMs) {
    await sleep(localPollMs)
  }
  return flight.response
}

export interface CacheOptions {
  /** The scopes the response is built from; a write to any of them invalidates it. */
  dependsOn: (c: AppContext) => string[]
  /** Key by the user rather than the role, for answers that differ between users. */
  perUser?: boolean
}

/**
 * Serves a read-heavy GET from the response cache while it is fresh. Put it after
 * `requireStaff`/`requirePortal` (the key needs the caller) and after the rate limit.
 * A hit makes no database round trip. Identical misses share one refill: in this isolate
 * through `flights`, across isolates through a short lock in the store.
 */
export function cacheResponse(options: CacheOptions): AppMiddleware {
  return async function responseCache(c, next) {
    const principal = c.get('principal')
    const scopes = options.dependsOn(c)
    if (!principal || !scopes.every(isCacheScope)) return fromDatabase(c, next, 'BYPASS')

    const { cache, config } = c.var
    const plan = await cache.plan({
      principal,
      path: c.req.path,
      query: normalizedQuery(c.req.url),
      dependsOn: scopes,
      perUser: options.perUser ?? false,
    })
    const lookup = await cache.lookup(plan, principal)
    if (lookup.kind === 'hit') return answer(c, lookup.response, 'HIT')
    if (lookup.kind === 'bypass') return fromDatabase(c, next, 'BYPASS')

    const flightKey = `${plan.entryKey}@${lookup.versions.join(',')}`
    const running = flights.get(flightKey)
    if (running) {
      const shared = await waitForFlight(running, config.CACHE_LOCK_MS)
      return shared ? answer(c, shared, 'HIT') : fromDatabase(c, next, 'MISS')
    }

    const flight: Flight = { done: false, response: undefined }
    flights.set(flightKey, flight)
    let owner = false
    try {
      owner = await cache.lock(plan)
      if (!owner) {
        const started = Date.now()
        for (let attempt = 0; Date.now() - started < config.CACHE_LOCK_MS; attempt += 1) {
          await sleep(storePollMs[Math.min(attempt, storePollMs.length - 1)] ?? 100)
          const refilled = await cache.peek(plan, lookup.versions)
          if (refilled) {
            flight.response = refilled
            return answer(c, refilled, 'HIT')
          }
        }
      }

      mark(c, 'MISS')
      await next()
      const response = await settle(c)
      if (response) {
        flight.response = response
        await cache.fill(plan, lookup, response, owner)
        owner = false
      }
      return undefined
    } finally {
      flight.done = true
      flights.delete(flightKey)
      if (owner) await cache.unlock(plan)
    }
  }
}

/** Bumps the given scopes after a write; call it once the write's batch has committed. */
export async function invalidateCache(c: AppContext, scopes: readonly CacheScope[]) {
  const principal = c.get('principal')
  if (!principal || scopes.length === 0) return
  await c.var.cache.invalidate(principal, scopes)
}

/** Write-route middleware: after a 2xx answer, bumps the scopes the route changes. */
export function invalidatesCache(scopes: (c: AppContext) => string[]): AppMiddleware {
  return async function cacheInvalidation(c, next) {
    await next()
    if (c.res.status < 200 || c.res.status >= 300) return
    await invalidateCache(c, scopes(c).filter(isCacheScope))
  }
}

/** For reads across the organization's requests (lists, rollups). */
export const cacheOrganizationView = () =>
  cacheResponse({ dependsOn: () => ['requests', 'directory'] })

/** For one request and what hangs off it; `param` names the request id in the path. */
export const cacheRequestView = (param = 'id') =>
  cacheResponse({
    dependsOn: (c) => [`request:${(c.req.param(param) ?? '').toLowerCase()}`, 'directory'],
  })
