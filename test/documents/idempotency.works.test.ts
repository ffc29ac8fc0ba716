// Idempotency-Key on upload intents: a retry gets the same document (never a second intent),
// signed afresh while its upload is awaited; another body under the key is a 422. A key on a
// completion is accepted and changes nothing: completion is idempotent by itself.
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  type Api,
  call,
  database,
  expectProblem,
  expectStatus,
  json,
  roundTrips,
  seedTenant,
  type Tenant,
} from '../access/tenant'
import {
  type Intent as Minted,
  type Items,
  pdf,
  seedItems,
  storeObject,
  uploadsPath,
} from './support'

type Intent = Minted & { upload: { expiresAt: string } }

const keyed = (key: string) => ({ 'idempotency-key': key })

async function intentRows(requestId: string) {
  const result = await database().execute(sql`
    select id, expires_at::text as expires_at from upload_intents
    where request_id = ${requestId}::uuid order by created_at`)
  return (result as unknown as { rows: { id: string; expires_at: string }[] }).rows
}

const signedAt = (intent: Intent) => new URL(intent.upload.url).searchParams.get('X-Amz-Date')

async function start(tenant: Tenant, items: Items, key: string, portal = false, body = pdf()) {
  const token = portal ? tenant.portal.token : tenant.staff.member.token
  return call(uploadsPath(items, 0, portal), { token, body, headers: keyed(key) })
}

function expectIntent(response: Api, replayed: boolean) {
  expectStatus(response, 201)
  expect(roundTrips(response), response.text).toBe(1)
  expect(response.headers.get('idempotent-replayed'), response.text).toBe(
    replayed ? 'true' : null,
  )
  return json<Intent>(response)
}

/** The intent's stored expiry is the URL's (signed to the second), to within that second. */
function expectCovers(storedExpiry: string | undefined, intent: Intent) {
  const gap = Date.parse(storedExpiry ?? '') - Date.parse(intent.upload.expiresAt)
  expect(gap, `${storedExpiry} against ${intent.upload.expiresAt}`).toBeGreaterThanOrEqual(0)
  expect(gap).toBeLessThan(1000)
}

/** Waits past the next whole second, so a fresh signature has another X-Amz-Date. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)))

describe('upload intents with an Idempotency-Key', () => {
  it.each([false, true])('a retry: the same document, signed anew (portal %s)', async (portal) => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const key = crypto.randomUUID()

    const first = expectIntent(await start(tenant, items, key, portal), false)
    const [row] = await intentRows(items.requestId)
    await nextSecond()
    const again = expectIntent(await start(tenant, items, key, portal), true)

    expect(again.documentId).toBe(first.documentId)
    expect(again.completePath).toBe(first.completePath)
    expect(new URL(again.upload.url).pathname).toBe(new URL(first.upload.url).pathname)
    expect(again.upload.headers).toEqual(first.upload.headers)
    expect(signedAt(again)).not.toBe(signedAt(first))
    expect(Date.parse(again.upload.expiresAt)).toBeGreaterThan(Date.parse(first.upload.expiresAt))

    // One intent, whose expiry moved with the new URL so the sweeper keeps it while it works.
    const rows = await intentRows(items.requestId)
    expect(rows.map((intent) => intent.id)).toEqual([first.documentId])
    expect(Date.parse(rows[0]?.expires_at ?? '')).toBeGreaterThan(Date.parse(row?.expires_at ?? ''))
    expectCovers(rows[0]?.expires_at, again)
  })

  it('another body under the same key is a 422, and mints nothing', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const key = crypto.randomUUID()
    const first = expectIntent(await start(tenant, items, key), false)

    const other = await start(tenant, items, key, false, pdf(2048))
    expectProblem(other, 422, 'idempotency_key_reused')
    expect(other.text).not.toContain('X-Amz')
    expect((await intentRows(items.requestId)).map((intent) => intent.id)).toEqual([
      first.documentId,
    ])
  })

  it('without a key, each call is a new intent', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const token = tenant.staff.member.token
    const one = json<Intent>(await call(uploadsPath(items), { token, body: pdf() }))
    const two = json<Intent>(await call(uploadsPath(items), { token, body: pdf() }))
    expect(one.documentId).not.toBe(two.documentId)
    expect(await intentRows(items.requestId)).toHaveLength(2)
  })

  it('a key belongs to its caller: another user’s same key is their own intent', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const key = crypto.randomUUID()
    const member = expectIntent(await start(tenant, items, key), false)
    const manager = await call(uploadsPath(items), {
      token: tenant.staff.manager.token,
      body: pdf(),
      headers: keyed(key),
    })
    expect(expectIntent(manager, false).documentId).not.toBe(member.documentId)
  })

  it('after completion, a retry returns the first URL unchanged and records nothing', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const key = crypto.randomUUID()
    const first = expectIntent(await start(tenant, items, key), false)
    await storeObject(tenant, items, first.documentId, new Uint8Array(1024))
    const token = tenant.staff.member.token

    // A key on the completion, even the intent's own, is accepted and harmless.
    const done = await call(first.completePath, { token, method: 'POST', headers: keyed(key) })
    expectStatus(done, 201)
    const repeat = await call(first.completePath, { token, method: 'POST', headers: keyed(key) })
    expectStatus(repeat, 200)
    expect(repeat.headers.get('idempotent-replayed')).toBeNull()
    expect(json<{ id: string; version: number }>(repeat)).toEqual(json(done))

    await nextSecond()
    const replay = expectIntent(await start(tenant, items, key), true)
    expect(replay).toEqual(first)
    const [row] = await intentRows(items.requestId)
    expectCovers(row?.expires_at, first)
  })

  it('a replay still checks the caller: a removed user is refused', async () => {
    const tenant = await seedTenant()
    const items = await seedItems(tenant)
    const key = crypto.randomUUID()
    expectIntent(await start(tenant, items, key), false)
    await database().execute(
      sql`update users set removed_at = now() where id = ${tenant.staff.member.id}::uuid`,
    )
    expectProblem(await start(tenant, items, key), 401, 'unauthorized')
  })
})
