import { z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import type { Database } from './database'
import { ApiError } from './errors'
import type { AppContext } from './hono'
import { sha256Hex } from './digest'

/**
 * Idempotency-Key for POSTs (draft-ietf-httpapi-idempotency-key-header). Keys live in
 * `idempotency_keys`, scoped to organization + caller, and are written in the SAME batch as
 * the change they protect, so a stored response without its change (or the reverse) cannot
 * exist. One batch is one transaction, which shapes the design:
 *
 * 1. The first statement claims the key: it inserts the row with no response yet, but only if
 *    the caller may act and `pg_try_advisory_xact_lock(key)` succeeds. The advisory lock is
 *    held until the batch commits; it is how a second request sees that the first is "still
 *    running" without waiting for it (an uncommitted row is invisible, and waiting on its
 *    unique index would only delay the answer). A row of an expired key is taken over.
 * 2. Every change statement is conditional on `claimed`: our row exists and has no response.
 *    A committed row always has one (see 4), so an unanswered row can only be ours.
 * 3. After the change, the response (status + body, computed in SQL from the new state) is
 *    stored on the row, provided the change happened (`done`).
 * 4. A row still unanswered at that point means the change was refused (404, 409, …): it is
 *    deleted, so a refusal is not remembered and a retry runs again.
 * 5. The last statement reads the verdict: someone else's stored response (replay, or 422
 *    when the body differs), or the lock held elsewhere (409 `idempotency_in_progress`).
 */
export const idempotencyTtl = sql.raw(`interval '24 hours'`)

export interface IdempotencyKey {
  organizationId: string
  principalId: string
  key: string
  /** SHA-256 of method, path, query and body: the same key with another request is refused. */
  fingerprint: string
}

// Visible ASCII; the draft's structured-field form ("…") is accepted and unquoted.
const keyPattern = /^[\x21-\x7e]{1,255}$/


/** The request's key, if it sent one; `payload` is the body as the route understood it. */
export async function idempotencyKeyOf(
  c: AppContext,
  scope: { organizationId: string; principalId: string },
  payload: string,
): Promise<IdempotencyKey | undefined> {
  const header = c.req.header('idempotency-key')
  if (header === undefined) return undefined
  const key = header.trim().replace(/^"(.*)"$/, '$1')
  if (!keyPattern.test(key)) {
    throw new ApiError('validation_failed', {
      detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      errors: [{ path: 'header.idempotency-key', message: 'Invalid key', code: 'invalid_format' }],
    })
  }
  const url = new URL(c.req.url)
  const request = `${c.req.method} ${url.pathname}${url.search}\n${payload}`
  return { ...scope, key, fingerprint: await sha256Hex(request) }
}

const rowOf = (k: IdempotencyKey) =>
  sql`organization_id = ${k.organizationId}::uuid and principal_id = ${k.principalId}::uuid
    and key = ${k.key}::text`

/** The advisory-lock id of a key (64-bit hash of its scope and value). */
export const idempotencyLockId = (k: Omit<IdempotencyKey, 'fingerprint'>) =>
  sql`hashtextextended(${k.organizationId}::text || ':' || ${k.principalId}::text || ':'
    || ${k.key}::text, 0)`

const lockOf = (k: IdempotencyKey) => sql`pg_try_advisory_xact_lock(${idempotencyLockId(k)})`

const claim = (k: IdempotencyKey, allowed: SQL) => sql`
  insert into idempotency_keys (organization_id, principal_id, key, fingerprint, expires_at)
  select ${k.organizationId}::uuid, ${k.principalId}::uuid, ${k.key}::text, ${k.fingerprint}::text,
    now() + ${idempotencyTtl}
  where ${allowed} and ${lockOf(k)}
  on conflict (organization_id, principal_id, key) do update
    set fingerprint = excluded.fingerprint, response_status = null, response_body = null,
      created_at = now(), expires_at = excluded.expires_at
    where idempotency_keys.expires_at <= now()`

/**
 * SQL: the body stored under this key for this very request (same fingerprint), else null.
 * For a write whose replay must still touch today's state, e.g. to renew what it handed out.
 */
export const storedResponseBody = (k: IdempotencyKey) => sql`(
  select response_body from idempotency_keys
  where ${rowOf(k)} and fingerprint = ${k.fingerprint}::text and response_status is not null
    and expires_at > now())`

const claimed = (k: IdempotencyKey) =>
  sql`exists (select 1 from idempotency_keys where ${rowOf(k)} and response_status is null)`

const store = (k: IdempotencyKey, done: SQL, status: number, body: SQL) => sql`
  update idempotency_keys set response_status = ${status}::int, response_body = ${body}
  where ${rowOf(k)} and response_status is null and ${done}`

const release = (k: IdempotencyKey) =>
  sql`delete from idempotency_keys where ${rowOf(k)} and response_status is null`

const verdict = (k: IdempotencyKey, allowed: SQL, done: SQL) => sql`
  select ${allowed} as allowed, ${done} as done, ${lockOf(k)} as free,
    (select jsonb_build_object('fingerprint', fingerprint, 'status', response_status,
      'body', response_body) from idempotency_keys where ${rowOf(k)}) as record`

interface VerdictRow {
  allowed: boolean
  done: boolean
  free: boolean
  record: { fingerprint: string; status: number | null; body: unknown } | null
}

export interface WritePlan {
  key: IdempotencyKey | undefined
  /** SQL boolean: the caller may act at all (stored role, session). */
  allowed: SQL
  /**
   * The change, as statements run in order inside the batch; each one that writes must be
   * conditional on `gate` (the claim when a key was sent, else `allowed`).
   */
  change: (gate: SQL) => SQL[]
  /** SQL boolean, evaluated after the change: it happened (e.g. its activity event exists). */
  done: SQL
  /** The success response as stored for replays: its status and its jsonb body. */
  response: { status: number; body: SQL }
  /** A one-row select read last, from which the handler answers or explains a refusal. */
  outcome: SQL
}

export interface Replay {
  status: number
  body: unknown
}

export interface WriteResult<Outcome> {
  /** Read after the change; present on replays too (then describing today's state). */
  outcome: Outcome
  /** Set when the key's earlier response is to be sent again instead. */
  replay?: Replay
}

/** Runs a write plan as ONE batch (one round trip, one transaction). */
export async function executeWrite<Outcome>(
  db: Database,
  plan: WritePlan,
): Promise<WriteResult<Outcome>> {
  const { key } = plan
  const gate = key === undefined ? plan.allowed : claimed(key)
  const statements: SQL[] = [
    ...(key === undefined ? [] : [claim(key, plan.allowed)]),
    ...plan.change(gate),
    ...(key === undefined
      ? []
      : [store(key, plan.done, plan.response.status, plan.response.body), release(key)]),
    plan.outcome,
    ...(key === undefined ? [] : [verdict(key, plan.allowed, plan.done)]),
  ]
  const [first, ...rest] = statements.map((statement) => db.execute(statement))
  if (first === undefined) throw new Error('a write plan needs at least one statement')
  const results = await db.batch([first, ...rest])

  const outcomeIndex = results.length - (key === undefined ? 1 : 2)
  const outcome = results[outcomeIndex]?.rows[0] as Outcome | undefined
  if (outcome === undefined) throw new Error('the outcome statement returned no row')
  if (key === undefined) return { outcome }

  const row = results.at(-1)?.rows[0] as VerdictRow | undefined
  if (row === undefined || !row.allowed || row.done) return { outcome }
  const record = row.record
  if (record !== null && record.status !== null) {
    if (record.fingerprint !== key.fingerprint) {
      throw new ApiError('idempotency_key_reused', {
        detail: 'This Idempotency-Key was already used with a different request.',
      })
    }
    return { outcome, replay: { status: record.status, body: record.body } }
  }
  if (!row.free || record !== null) {
    throw new ApiError('idempotency_in_progress', {
      detail: 'A request with this Idempotency-Key is still being processed; retry shortly.',
      headers: { 'retry-after': '1' },
    })
  }
  return { outcome }
}

/** Header of a replayed response, so the client can tell it from a first answer. */
export const replayedHeaders = { 'idempotent-replayed': 'true' } as const

export const IdempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({
    description: 'Retry-safe POST: the same key and body within 24 h replays the first response',
  }),
})
