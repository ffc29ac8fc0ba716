import type { Principal } from '../auth/principal'
import type { Config } from '../env'
import type { Logger } from '../platform/logger'
import { describeError } from '../platform/logger'
import type { Defer, KeyValueStore, StoreEntry } from './store'
import { sha256Hex } from '../platform/digest'

/**
 * What a cached response depends on, inside one organization: `requests` (anything about any
 * request: lists and rollups), `request:<uuid>` (one request and its items), `directory`
 * (clients, contacts and staff, whose names responses show). A write bumps the version of
 * each scope it changes; an entry is served only while every version it was built on holds.
 */
export type CacheScope = 'requests' | 'directory' | `request:${string}`

const scopePattern = /^(requests|directory|request:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/
export const isCacheScope = (scope: string): scope is CacheScope => scopePattern.test(scope)

/** A response as stored: only what is needed to answer again byte for byte. */
export interface CachedResponse {
  status: number
  headers: Record<string, string>
  body: string
}

interface StoredEntry {
  versions: string[]
  response: CachedResponse
}

/** The keys one cached GET reads, computed once per request. */
export interface CachePlan {
  entryKey: string
  lockKey: string
  versionKeys: string[]
  /** Proof that the caller's session or token was accepted by the database recently. */
  principalKey: string
  principalValue: string
  /** Set on eventually consistent backends: the caller's own recent-write marker. */
  writerKey: string | undefined
}

export type Lookup =
  | { kind: 'hit'; response: CachedResponse }
  | { kind: 'miss'; versions: string[]; principalKnown: boolean }
  | { kind: 'bypass'; reason: 'own-write' | 'unavailable' }

// A version key must outlive every entry built on it, or a reset to "none" could revive one.
const versionTtlExtraSeconds = 24 * 60 * 60
const noVersion = '0'
// Bounds the isolate's memory of recent writers.
const maxRecentWriters = 10_000
// KV refuses a second write to one key within a second; a refused bump is tried once more.
const kvRewriteDelayMs = 1100

/**
 * Writers seen by this isolate, until their bypass ends. KV makes a write visible in its own
 * location at once and elsewhere within about 60 s; this map covers the same isolate even
 * before KV's local copy catches up, the KV marker covers the rest of the location.
 */
const recentWriters = new Map<string, number>()

function rememberWriter(writer: string, until: number): void {
  recentWriters.delete(writer)
  if (recentWriters.size >= maxRecentWriters) {
    const oldest = recentWriters.keys().next().value
    if (oldest !== undefined) recentWriters.delete(oldest)
  }
  recentWriters.set(writer, until)
}

function wroteRecently(writer: string): boolean {
  const until = recentWriters.get(writer)
  if (until === undefined) return false
  if (until > Date.now()) return true
  recentWriters.delete(writer)
  return false
}


/** The same query in any parameter order gives the same key; repeated values keep order. */
export function normalizedQuery(url: string): string {
  const params = [...new URL(url).searchParams]
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return new URLSearchParams(params).toString()
}

const writerOf = (principal: Principal) =>
  principal.kind === 'staff' ? `u:${principal.userId}` : `c:${principal.contactId}`

export interface PlanInput {
  principal: Principal
  /** The request path and normalized query: everything the response varies by. */
  path: string
  query: string
  dependsOn: readonly CacheScope[]
  /** Key by the user instead of the role, for responses that differ between users. */
  perUser: boolean
}

export class ResponseCache {
  constructor(
    private readonly store: KeyValueStore,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly defer: Defer,
  ) {}

  get backend() {
    return this.store.backend
  }

  async plan(input: PlanInput): Promise<CachePlan> {
    const { principal } = input
    const org = principal.organizationId
    const audience =
      principal.kind === 'portal'
        ? `client:${principal.clientId}`
        : input.perUser
          ? `user:${principal.userId}`
          : `role:${principal.role}`
    const hash = await sha256Hex(JSON.stringify([audience, input.path, input.query]))
    const eventual = this.store.guarantees.consistency === 'eventual'
    return {
      entryKey: `rc:${org}:${hash}`,
      lockKey: `fill-lock:${org}:${hash}`,
      versionKeys: input.dependsOn.map((scope) => `cv:${org}:${scope}`),
      principalKey:
        principal.kind === 'portal' ? `pv:s:${principal.sessionId}` : `pv:u:${principal.userId}`,
      principalValue: principal.kind === 'portal' ? '1' : String(principal.authVersion),
      writerKey: eventual ? `rw:${org}:${writerOf(principal)}` : undefined,
    }
  }

  /** One round trip: the entry, the caller's proof, every version, the writer marker. */
  async lookup(plan: CachePlan, principal: Principal): Promise<Lookup> {
    if (plan.writerKey !== undefined && wroteRecently(writerOf(principal))) {
      return { kind: 'bypass', reason: 'own-write' }
    }

    const keys = [plan.entryKey, plan.principalKey, ...plan.versionKeys]
    if (plan.writerKey !== undefined) keys.push(plan.writerKey)
    let values
    try {
      values = await this.store.getMany(keys)
    } catch (error) {
      this.warn('cache lookup failed; serving from the database', error)
      return { kind: 'bypass', reason: 'unavailable' }
    }

    const [raw, proof, ...rest] = values
    const versions = rest.slice(0, plan.versionKeys.length).map((value) => value ?? noVersion)
    if (plan.writerKey !== undefined && rest[plan.versionKeys.length] != null) {
      return { kind: 'bypass', reason: 'own-write' }
    }

    const principalKnown = proof === plan.principalValue
    const entry = raw == null ? undefined : parseEntry(raw)
    const fresh = entry !== undefined && sameVersions(entry.versions, versions)
    if (fresh && principalKnown) return { kind: 'hit', response: entry.response }
    return { kind: 'miss', versions, principalKnown }
  }

  /** Reads only the entry again, for a request waiting on another isolate's refill. */
  async peek(plan: CachePlan, versions: readonly string[]): Promise<CachedResponse | undefined> {
    try {
      const [raw] = await this.store.getMany([plan.entryKey])
      const entry = raw == null ? undefined : parseEntry(raw)
      return entry && sameVersions(entry.versions, versions) ? entry.response : undefined
    } catch (error) {
      this.warn('cache peek failed', error)
      return undefined
    }
  }

  /** True if this request should refill the entry; false if someone else already is. */
  async lock(plan: CachePlan): Promise<boolean> {
    try {
      return await this.store.tryLock(plan.lockKey, this.config.CACHE_LOCK_MS)
    } catch (error) {
      this.warn('cache lock failed; refilling without it', error)
      return true
    }
  }

  /** Gives the refill lock back when the refill produced nothing to store. */
  async unlock(plan: CachePlan): Promise<void> {
    try {
      await this.store.delete(plan.lockKey)
    } catch (error) {
      this.warn('cache lock not released; it expires on its own', error)
    }
  }

  async fill(
    plan: CachePlan,
    lookup: Extract<Lookup, { kind: 'miss' }>,
    response: CachedResponse,
    unlock: boolean,
  ): Promise<void> {
    const entry: StoredEntry = { versions: lookup.versions, response }
    const writes: StoreEntry[] = [
      {
        key: plan.entryKey,
        value: JSON.stringify(entry),
        ttlSeconds: this.config.CACHE_TTL_SECONDS,
      },
    ]
    // Only when missing: KV takes about one write per second per key.
    if (!lookup.principalKnown) {
      writes.push({
        key: plan.principalKey,
        value: plan.principalValue,
        ttlSeconds: this.config.CACHE_PRINCIPAL_TTL_SECONDS,
      })
    }
    try {
      await Promise.all([
        this.store.setMany(writes),
        unlock ? this.store.delete(plan.lockKey) : Promise.resolve(),
      ])
    } catch (error) {
      this.warn('cache fill failed', error)
    }
  }

  /**
   * Bumps each scope's version so entries built on the old one are never served again, and
   * on KV marks the writer so their own next reads skip the cache until KV has caught up.
   */
  async invalidate(principal: Principal, scopes: readonly CacheScope[]): Promise<void> {
    const org = principal.organizationId
    const token = crypto.randomUUID()
    const versionTtl = this.config.CACHE_TTL_SECONDS + versionTtlExtraSeconds
    const writes: StoreEntry[] = scopes.map((scope) => ({
      key: `cv:${org}:${scope}`,
      value: token,
      ttlSeconds: versionTtl,
    }))

    if (this.store.guarantees.consistency === 'eventual') {
      const bypass = this.config.CACHE_WRITER_BYPASS_SECONDS
      rememberWriter(writerOf(principal), Date.now() + bypass * 1000)
      writes.push({ key: `rw:${org}:${writerOf(principal)}`, value: '1', ttlSeconds: bypass })
    }

    try {
      await this.store.setMany(writes)
    } catch (error) {
      this.warn('cache invalidation failed; entries may be stale until they expire', error, {
        scopes: scopes.length,
        staleUpToSeconds: this.config.CACHE_TTL_SECONDS,
      })
      // Most likely two bumps of one scope in the same second: the later one is retried
      // after the window, so the last write of a burst is never the one that is lost.
      if (this.store.guarantees.consistency === 'eventual') {
        const retry = new Promise((resolve) => setTimeout(resolve, kvRewriteDelayMs)).then(
          () => this.store.setMany(writes),
        )
        this.defer(retry)
      }
    }
  }

  /** Ends the cached proof for a portal session (logout) or a staff user (removal). */
  async forget(principal: { sessionId: string } | { userId: string }): Promise<void> {
    const key =
      'sessionId' in principal ? `pv:s:${principal.sessionId}` : `pv:u:${principal.userId}`
    try {
      await this.store.delete(key)
    } catch (error) {
      this.warn('cache proof not removed; it expires on its own', error, {
        staleUpToSeconds: this.config.CACHE_PRINCIPAL_TTL_SECONDS,
      })
    }
  }

  private warn(message: string, error: unknown, fields: Record<string, unknown> = {}) {
    this.log.warn(message, { backend: this.store.backend, ...fields, ...describeError(error) })
  }
}

function parseEntry(raw: string): StoredEntry | undefined {
  try {
    const parsed = JSON.parse(raw) as Partial<StoredEntry>
    const valid = Array.isArray(parsed.versions) && typeof parsed.response?.body === 'string'
    return valid ? (parsed as StoredEntry) : undefined
  } catch {
    return undefined
  }
}

const sameVersions = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((version, index) => version === b[index])
