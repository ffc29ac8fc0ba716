// Helpers for the request-workflow tests, on top of the shared tenant harness: every call
// goes through the real Worker, the real Neon HTTP driver and the suite's database.
import { SELF } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { expect } from 'vitest'
import { executeWrite } from '../../src/platform/idempotency'
import { itemSubmittedStatements } from '../../src/requests/transitions'
import pbcList from '../fixtures/pbc-list.csv?raw'
import {
  type Api,
  call,
  database,
  expectStatus,
  json,
  origin,
  roundTrips,
  type Tenant,
} from '../access/tenant'

export { pbcList }

export interface RequestBody {
  id: string
  title: string
  status: string
  revision: number
  progress: { open: number; submitted: number; accepted: number; returned: number; total: number }
  [field: string]: unknown
}

export interface ItemBody {
  id: string
  reference: string
  status: string
  [field: string]: unknown
}

export interface Page<T> {
  data: T[]
  nextCursor: string | null
}

/** A request body's fields, defaults filled in, for `POST /v1/requests`. */
export const draft = (tenant: Tenant, fields: Record<string, unknown> = {}) => ({
  clientId: tenant.client.id,
  title: `Year-end audit ${crypto.randomUUID().slice(0, 8)}`,
  ...fields,
})

export async function createRequest(tenant: Tenant, fields: Record<string, unknown> = {}) {
  const response = await call('/v1/requests', {
    token: tenant.staff.manager.token,
    body: draft(tenant, fields),
  })
  expectStatus(response, 201)
  return json<RequestBody>(response)
}

export async function createItem(
  tenant: Tenant,
  requestId: string,
  fields: Record<string, unknown> = {},
) {
  const response = await call(`/v1/requests/${requestId}/items`, {
    token: tenant.staff.manager.token,
    body: { reference: `R-${crypto.randomUUID().slice(0, 6)}`, title: 'A document', ...fields },
  })
  expectStatus(response, 201)
  return json<ItemBody>(response)
}

export async function transition(tenant: Tenant, requestId: string, to: string, token?: string) {
  return call(`/v1/requests/${requestId}/transitions`, {
    token: token ?? tenant.staff.manager.token,
    body: { to },
  })
}

/** A request that is `sent`, with `count` open items. */
export async function sentRequest(tenant: Tenant, count = 2) {
  const request = await createRequest(tenant)
  const items: ItemBody[] = []
  for (let index = 0; index < count; index += 1) {
    items.push(await createItem(tenant, request.id, { reference: `X-${index + 1}` }))
  }
  expectStatus(await transition(tenant, request.id, 'sent'), 200)
  return { request, items }
}

/** Uploads a CSV body (the shared `call` always sends JSON). */
export async function importCsv(
  tenant: Tenant,
  requestId: string,
  text: string,
  options: { dryRun?: boolean; token?: string; headers?: Record<string, string> } = {},
): Promise<Api> {
  const query = options.dryRun === undefined ? '' : `?dryRun=${options.dryRun}`
  const response = await SELF.fetch(`${origin}/v1/requests/${requestId}/import${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${options.token ?? tenant.staff.manager.token}`,
      'content-type': 'text/csv',
      ...options.headers,
    },
    body: text,
  })
  const body = await response.text()
  let parsed: unknown = body
  try {
    parsed = body === '' ? null : JSON.parse(body)
  } catch {
    // Not JSON: the assertion prints the text.
  }
  return { status: response.status, headers: response.headers, body: parsed, text: body }
}

/** The endpoint's database round trips, asserted, with the response printed on failure. */
export function expectRoundTrips(response: Api, count: number) {
  expect(roundTrips(response), `round trips of ${response.status} ${response.text}`).toBe(count)
}

/**
 * Marks an item submitted the way an upload will: through the statements the documents
 * feature runs in its own batch (there is no upload here, so the gate is `true`).
 */
export async function submitItem(
  tenant: Tenant,
  requestId: string,
  itemId: string,
  actor: { type: 'user' | 'contact'; id: string } = { type: 'contact', id: tenant.contact.id },
) {
  const eventId = crypto.randomUUID()
  const { outcome } = await executeWrite<{ done: boolean }>(database(), {
    key: undefined,
    allowed: sql`true`,
    change: (gate) =>
      itemSubmittedStatements({
        actor: { ...actor, organizationId: tenant.organization.id },
        requestId,
        itemId,
        eventId,
        gate,
      }),
    done: sql`true`,
    response: { status: 200, body: sql`null` },
    outcome: sql`select exists (select 1 from activity_events where id = ${eventId}::uuid)
      as done`,
  })
  return outcome.done
}

/** Activity actions of a request, oldest first, read straight from the table. */
export async function actions(requestId: string) {
  const result = await database().execute(sql`
    select action from activity_events where request_id = ${requestId}::uuid
    order by created_at, action`)
  return (result as unknown as { rows: { action: string }[] }).rows.map((row) => row.action)
}
