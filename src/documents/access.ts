import { type SQL, sql } from 'drizzle-orm'
import type { PortalPrincipal, StaffPrincipal } from '../auth/principal'
import type { StaffRole } from '../auth/roles'
import { type requestStatuses, requests } from '../db/schema'
import type { Database } from '../platform/database'
import { type Caller, portalCaller, staffCaller } from '../requests/guards'

type RequestStatus = (typeof requestStatuses)[number]

/**
 * Who is acting on documents, as SQL. Every documents query carries `caller.holds` in its
 * own statement (no extra round trip; a removed user or an ended portal session matches no
 * row) and selects `caller.standing`, so a refusal can say 401/403 instead of 404.
 */
export interface DocumentActor {
  caller: Caller
  /** True for the requests (`requests` in the query) this actor may see at all. */
  sees: SQL
  /** Request statuses in which this actor may add a version. */
  uploadStatuses: readonly RequestStatus[]
}

export function staffActor(db: Database, staff: StaffPrincipal, minimum: StaffRole = 'member') {
  return {
    caller: staffCaller(db, staff, minimum),
    sees: sql`true`,
    // Staff may prepare evidence before a request is sent, never after it is closed.
    uploadStatuses: ['draft', 'sent', 'in_progress'],
  } satisfies DocumentActor
}

export function portalActor(portal: PortalPrincipal) {
  return {
    caller: portalCaller(portal),
    // The client comes from the session, never from the URL; drafts are not yet shared.
    sees: sql`${requests.clientId} = ${portal.clientId} and ${requests.status} <> 'draft'`,
    uploadStatuses: ['sent', 'in_progress'],
  } satisfies DocumentActor
}

/** `requests.status in (…)` for the statuses in which the actor may upload. */
export function uploadOpen(actor: DocumentActor): SQL {
  const statuses = actor.uploadStatuses.map((status) => sql`${status}`)
  return sql`${requests.status}::text in (${sql.join(statuses, sql`, `)})`
}

/** After a query matched nothing: 401/403 when the caller's standing explains it, else 404. */
export function explainMissing(actor: DocumentActor, standing: unknown, missing: Error): never {
  actor.caller.assert(standing)
  throw missing
}
