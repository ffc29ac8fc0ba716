import { type SQL, sql } from 'drizzle-orm'
import type { itemStatuses, requestStatuses } from '../db/schema'
import { type Precondition, preconditionHolds } from '../platform/etag'
import { itemIs, itemView, requestIs, requestView } from './queries'

type RequestStatus = (typeof requestStatuses)[number]
type ItemStatus = (typeof itemStatuses)[number]

interface Transition<Status> {
  from: readonly Status[]
  action: string
  /** Timestamp column set when the transition happens. */
  stamp?: 'sent_at' | 'completed_at' | 'cancelled_at'
}

/**
 * The request state machine as data: draft → sent → in_progress → completed, and cancelled
 * from any open state. `sent → in_progress` also happens by itself on the client's first
 * comment or submission (`startOnClientActivity`). Completing needs every live item accepted.
 */
export const requestTransitions = {
  sent: { from: ['draft'], action: 'request.sent', stamp: 'sent_at' },
  in_progress: { from: ['sent'], action: 'request.started' },
  completed: { from: ['in_progress'], action: 'request.completed', stamp: 'completed_at' },
  cancelled: {
    from: ['draft', 'sent', 'in_progress'],
    action: 'request.cancelled',
    stamp: 'cancelled_at',
  },
} as const satisfies Record<Exclude<RequestStatus, 'draft'>, Transition<RequestStatus>>

export type RequestTarget = keyof typeof requestTransitions

/** Items: open → submitted (an upload) → accepted, or returned with a reason → submitted. */
export const itemTransitions = {
  submitted: { from: ['open', 'returned'], action: 'item.submitted' },
  accepted: { from: ['submitted'], action: 'item.accepted' },
  returned: { from: ['submitted'], action: 'item.returned' },
} as const satisfies Record<Exclude<ItemStatus, 'open'>, Transition<ItemStatus>>

/** Item changes happen only while their request is with the client or being prepared. */
export const itemsChangeableIn = ['draft', 'sent', 'in_progress'] as const
export const itemsReviewableIn = ['sent', 'in_progress'] as const

export interface Actor {
  type: 'user' | 'contact'
  id: string
  organizationId: string
}

/**
 * First statement of every write to a request or its items: lock the request row. Later
 * statements of the batch then read fresh, settled state (READ COMMITTED takes a snapshot
 * per statement), so checks such as "all items accepted" cannot race an item change.
 */
export const lockRequest = (organizationId: string, requestId: string) => sql`
  select id from requests
  where id = ${requestId}::uuid and organization_id = ${organizationId}::uuid
  for update`

const event = (actor: Actor) =>
  sql`${actor.organizationId}::uuid, ${actor.type}::actor_type, ${actor.id}::uuid`

/** Every item change also bumps its request, whose progress (and ETag) it changes. */
const touchRequestOf = (changed: string) => sql`
  update requests r set revision = r.revision + 1, updated_at = now()
  where r.id in (select request_id from ${sql.raw(changed)})`

export interface RequestTransitionInput {
  actor: Actor
  requestId: string
  to: RequestTarget
  eventId: string
  gate: SQL
  precondition: Precondition
}

/** The conditional UPDATE: it matches only from an allowed state, so one racer wins. */
export function requestTransitionStatement(input: RequestTransitionInput): SQL {
  const { actor, to } = input
  const rule: Transition<RequestStatus> = requestTransitions[to]
  const stamp = rule.stamp === undefined ? sql`` : sql`, ${sql.raw(rule.stamp)} = now()`
  const allAccepted =
    to === 'completed'
      ? sql`and not exists (select 1 from request_items ci
          where ci.request_id = r.id and ci.deleted_at is null and ci.status <> 'accepted')`
      : sql``
  return sql`
    with prior as (
      select r.id, r.status from requests r
      where ${requestIs(actor.organizationId, input.requestId)}
        and r.status in ${rule.from} and ${input.gate}
        and ${preconditionHolds(input.precondition, requestView)} ${allAccepted}
    ), changed as (
      update requests r
      set status = ${to}::request_status, revision = r.revision + 1, updated_at = now() ${stamp}
      from prior p where r.id = p.id
      returning r.id, p.status as before
    )
    insert into activity_events
      (id, organization_id, actor_type, actor_id, request_id, action, before, after)
    select ${input.eventId}::uuid, ${event(actor)}, c.id, ${rule.action}::text,
      jsonb_build_object('status', c.before), jsonb_build_object('status', ${to}::text)
    from changed c`
}

export interface ItemTransitionInput {
  actor: Actor
  requestId: string
  itemId: string
  to: keyof typeof itemTransitions
  eventId: string
  gate: SQL
  precondition?: Precondition
  /** Why an item is returned; shown to the client. */
  reason?: string | null
  /** Extra detail for the event, e.g. `{ documentId }`. */
  detail?: Record<string, string>
}

/**
 * An item's conditional status change (review or submission), its request bumped, and its
 * event, in one statement. Items move only while their request is with the client.
 */
export function itemTransitionStatement(input: ItemTransitionInput): SQL {
  const { actor, to } = input
  const rule: Transition<ItemStatus> = itemTransitions[to]
  const reason = to === 'returned' ? (input.reason ?? null) : null
  const after = { status: to, ...(reason === null ? {} : { reason }), ...input.detail }
  return sql`
    with prior as (
      select i.id, i.request_id, i.status from request_items i
      where ${itemIs(actor.organizationId, input.requestId, input.itemId)}
        and i.status in ${rule.from} and ${input.gate}
        and ${preconditionHolds(input.precondition, itemView)}
        and exists (select 1 from requests r where r.id = i.request_id and r.deleted_at is null
          and r.status in ${itemsReviewableIn})
    ), changed as (
      update request_items i
      set status = ${to}::item_status, return_reason = ${reason}::text,
        revision = i.revision + 1, updated_at = now()
      from prior p where i.id = p.id
      returning i.id, i.request_id, p.status as before
    ), touched as (${touchRequestOf('changed')})
    insert into activity_events
      (id, organization_id, actor_type, actor_id, request_id, item_id, action, before, after)
    select ${input.eventId}::uuid, ${event(actor)}, c.request_id, c.id, ${rule.action}::text,
      jsonb_build_object('status', c.before), ${JSON.stringify(after)}::jsonb
    from changed c`
}

/**
 * `sent → in_progress` by itself once the client acts (a portal comment, a submission), in
 * the same batch as that act; `when` is SQL that holds only if the act happened.
 */
export function startOnClientActivity(
  actor: Actor,
  requestId: string,
  trigger: string,
  when: SQL,
): SQL {
  return sql`
    with started as (
      update requests r
      set status = 'in_progress', revision = r.revision + 1, updated_at = now()
      where ${requestIs(actor.organizationId, requestId)} and r.status = 'sent' and ${when}
      returning r.id
    )
    insert into activity_events
      (id, organization_id, actor_type, actor_id, request_id, action, before, after)
    select gen_random_uuid(), ${event(actor)}, s.id,
      ${requestTransitions.in_progress.action}::text,
      jsonb_build_object('status', 'sent'),
      jsonb_build_object('status', 'in_progress', 'trigger', ${trigger}::text)
    from started s`
}

export interface ItemSubmittedInput {
  actor: Actor
  requestId: string
  itemId: string
  /** Id of the `item.submitted` event; its existence later says the item moved. */
  eventId: string
  /** Condition of the caller's own batch (e.g. its upload claim); `sql\`true\`` if none. */
  gate: SQL
  /** Extra detail for the event, e.g. `{ documentId }`. */
  detail?: Record<string, string>
}

/**
 * For the documents feature: the statements that mark an item submitted after a verified
 * upload (open or returned → submitted), bump its request, and start a `sent` request. Put
 * them in the upload's own batch, after its document insert. An item already submitted or
 * accepted keeps its status (a new version of its document is not a new submission).
 */
export function itemSubmittedStatements(input: ItemSubmittedInput): SQL[] {
  const { actor } = input
  const done = sql`exists (select 1 from activity_events where id = ${input.eventId}::uuid)`
  return [
    lockRequest(actor.organizationId, input.requestId),
    itemTransitionStatement({ ...input, to: 'submitted' }),
    startOnClientActivity(actor, input.requestId, itemTransitions.submitted.action, done),
  ]
}
