// Every filter and ordering the request lists offer has an index behind it (declared in the
// drizzle schema, created by the migrations): if one goes missing, this says which.
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { database } from '../access/tenant'

const expected: Record<string, string> = {
  // GET /v1/requests: status, client, assignee, priority filters; due/created/updated orders
  // and the due-date, overdue and updatedSince filters; text search on titles.
  requests_organization_status_idx: '(organization_id, status)',
  requests_organization_client_idx: '(organization_id, client_id)',
  requests_organization_assignee_idx: '(organization_id, assignee_id)',
  requests_organization_priority_idx: '(organization_id, priority)',
  requests_organization_due_idx: '(organization_id, due_date, id)',
  requests_organization_created_idx: '(organization_id, created_at, id)',
  requests_organization_updated_idx: '(organization_id, updated_at, id)',
  requests_title_trgm_idx: 'gin (title gin_trgm_ops)',
  // Items: list order, status filter, the sync feed, search on reference and title.
  request_items_request_position_idx: '(request_id, "position", id)',
  request_items_request_status_idx: '(request_id, status)',
  request_items_organization_updated_idx: '(organization_id, updated_at, id)',
  request_items_reference_trgm_idx: 'gin (reference gin_trgm_ops)',
  request_items_title_trgm_idx: 'gin (title gin_trgm_ops)',
  request_items_request_reference_key: '(request_id, reference) WHERE (deleted_at IS NULL)',
  // Comments and the activity trail, per request and per item.
  comments_request_created_idx: '(request_id, created_at, id)',
  comments_item_created_idx: '(item_id, created_at)',
  activity_events_request_created_idx: '(request_id, created_at, id)',
  activity_events_item_created_idx: '(item_id, created_at, id)',
  documents_request_idx: '(request_id)',
}

describe('indexes behind every list filter and order', () => {
  it('exist with the expected columns', async () => {
    const result = await database().execute(sql`
      select indexname, indexdef from pg_indexes
      where schemaname = 'public' and indexname in ${Object.keys(expected)}`)
    const rows = (result as unknown as { rows: { indexname: string; indexdef: string }[] }).rows
    const found = Object.fromEntries(rows.map((row) => [row.indexname, row.indexdef]))
    for (const [name, columns] of Object.entries(expected)) {
      expect(found[name], name).toContain(columns)
    }
  })
})
