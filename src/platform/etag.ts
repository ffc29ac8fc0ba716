import { z } from '@hono/zod-openapi'
import { type SQL, sql } from 'drizzle-orm'
import { ApiError } from './errors'
import type { AppContext } from './hono'

/**
 * Entity tags (RFC 9110 §8.8.3). A single resource's tag is the md5 of its JSON view computed
 * by Postgres in the same query that reads it, so a write can compare the caller's `If-Match`
 * inside its conditional UPDATE: no extra round trip, and a stale tag can never win a race.
 * Lists are hashed in the Worker (SHA-256 of the body).
 */
export const viewTag = (view: SQL) => sql<string>`md5((${view})::text)`

export const quoteTag = (opaque: string) => `"${opaque}"`

export async function bodyTag(body: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))
  const bytes = new Uint8Array(digest).slice(0, 18)
  const base64 = btoa(String.fromCharCode(...bytes))
  return quoteTag(base64.replaceAll('+', '-').replaceAll('/', '_'))
}

// Entity-tag list members: optionally weak, always quoted (RFC 9110 §8.8.3).
const tagPattern = /(W\/)?"([\x21\x23-\x7e]*)"/g

function parseTags(header: string): { weak: boolean; opaque: string }[] {
  return [...header.matchAll(tagPattern)].map((match) => ({
    weak: match[1] !== undefined,
    opaque: match[2] ?? '',
  }))
}

/** `If-None-Match` uses weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`. */
export function ifNoneMatchHolds(header: string | undefined, tag: string | undefined): boolean {
  if (header === undefined || tag === undefined) return false
  if (header.trim() === '*') return true
  const opaque = tag.replace(/^W\//, '').slice(1, -1)
  return parseTags(header).some((candidate) => candidate.opaque === opaque)
}

export const isNotModified = (c: AppContext, tag: string) =>
  ifNoneMatchHolds(c.req.header('if-none-match'), tag)

/** A 304 carries the tag and no body. */
export const notModified = (c: AppContext, tag: string) => c.body(null, 304, { etag: tag })

/**
 * What `If-Match` asks for: undefined without the header, `'any'` for `*`, else the opaque
 * values of its strong tags. Weak tags never match for a write (strong comparison).
 */
export type Precondition = undefined | 'any' | string[]

export function precondition(c: AppContext): Precondition {
  const header = c.req.header('if-match')
  if (header === undefined) return undefined
  if (header.trim() === '*') return 'any'
  return parseTags(header)
    .filter((candidate) => !candidate.weak)
    .map((candidate) => candidate.opaque)
}

/** SQL that holds when the resource's current view satisfies the precondition. */
export function preconditionHolds(wanted: Precondition, view: SQL): SQL {
  if (wanted === undefined || wanted === 'any') return sql`true`
  if (wanted.length === 0) return sql`false`
  return sql`${viewTag(view)} in ${wanted}`
}

/** True when a precondition was given and the current tag does not satisfy it. */
export function preconditionFails(wanted: Precondition, currentTag: string | null): boolean {
  if (wanted === undefined) return false
  if (currentTag === null) return true
  return wanted !== 'any' && !wanted.includes(currentTag)
}

export const preconditionFailed = () =>
  new ApiError('precondition_failed', {
    detail: 'The resource changed since you read it; fetch it again and retry with its ETag.',
  })

/** Request headers for the OpenAPI document; the values are read by the functions above. */
export const IfNoneMatchHeader = z.object({
  'if-none-match': z.string().optional().openapi({ description: 'An ETag from a previous read' }),
})

export const IfMatchHeader = z.object({
  'if-match': z
    .string()
    .optional()
    .openapi({ description: 'Apply only if the resource still has this ETag (else 412)' }),
})
