// Refresh rotation (RFC 9700 §4.14): single use, rotation on every call, reuse detection
// with a grace window for concurrent refreshes, logout revoking the whole sign-in.
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { refreshTokens } from '../../src/db/schema'
import { hashSecret } from '../../src/auth/secrets'
import {
  call,
  database,
  expectProblem,
  expectStatus,
  json,
  password,
  roundTrips,
  seedTenant,
  type Tenant,
} from '../access/tenant'

interface Session {
  accessToken: string
  refreshToken: string
  user: { id: string; role: string }
}

async function login(tenant: Tenant) {
  const response = await call('/v1/auth/login', {
    body: { organization: tenant.organization.slug, email: tenant.staff.member.email, password },
  })
  expectStatus(response, 200)
  return json<Session>(response)
}

const refresh = (refreshToken: string) => call('/v1/auth/refresh', { body: { refreshToken } })

/** Moves a token's rotation back in time, past the grace window, without waiting. */
async function ageRotation(token: string, seconds: number) {
  const hash = await hashSecret(token)
  await database()
    .update(refreshTokens)
    .set({ rotatedAt: sql`${refreshTokens.rotatedAt} - ${seconds}::integer * interval '1 second'` })
    .where(eq(refreshTokens.tokenHash, hash))
}

describe('refresh', () => {
  it('rotates: a new pair each time, in one round trip, and the access token works', async () => {
    const tenant = await seedTenant()
    const first = await login(tenant)

    const response = await refresh(first.refreshToken)
    expectStatus(response, 200)
    expect(roundTrips(response)).toBe(1)
    const second = json<Session>(response)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(second.user).toMatchObject({ id: tenant.staff.member.id, role: 'member' })
    expectStatus(await call('/v1/me', { token: second.accessToken }), 200)

    const third = await refresh(second.refreshToken)
    expectStatus(third, 200)
  })

  it('lets two concurrent refreshes of one token both succeed within the grace', async () => {
    const tenant = await seedTenant()
    const { refreshToken } = await login(tenant)

    const [tabA, tabB] = await Promise.all([refresh(refreshToken), refresh(refreshToken)])
    expectStatus(tabA, 200)
    expectStatus(tabB, 200)
    const a = json<Session>(tabA)
    const b = json<Session>(tabB)
    expect(a.refreshToken).not.toBe(b.refreshToken)

    // Both successors belong to the same sign-in and keep working.
    const rows = await database()
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.userId, tenant.staff.member.id))
    expect(new Set(rows.map((row) => row.familyId)).size).toBe(1)
    expectStatus(await refresh(a.refreshToken), 200)
    expectStatus(await refresh(b.refreshToken), 200)
  })

  it('revokes the whole family when a rotated token comes back after the window', async () => {
    const tenant = await seedTenant()
    const { refreshToken } = await login(tenant)
    const [tabA, tabB] = await Promise.all([refresh(refreshToken), refresh(refreshToken)])
    expectStatus(tabA, 200)
    expectStatus(tabB, 200)

    await ageRotation(refreshToken, 31)
    const third = await refresh(refreshToken)
    expectProblem(third, 401, 'unauthorized')
    expect(roundTrips(third)).toBe(1)

    // Every token of the sign-in is dead now, including the two live successors.
    expectProblem(await refresh(json<Session>(tabA).refreshToken), 401, 'unauthorized')
    expectProblem(await refresh(json<Session>(tabB).refreshToken), 401, 'unauthorized')
    const live = await database()
      .select({ id: refreshTokens.id })
      .from(refreshTokens)
      .where(sql`${refreshTokens.userId} = ${tenant.staff.member.id} and revoked_at is null`)
    expect(live).toEqual([])
  })

  it('keeps other sign-ins of the same user alive when one family is revoked', async () => {
    const tenant = await seedTenant()
    const laptop = await login(tenant)
    const phone = await login(tenant)

    const rotated = await refresh(laptop.refreshToken)
    expectStatus(rotated, 200)
    await ageRotation(laptop.refreshToken, 60)
    expectProblem(await refresh(laptop.refreshToken), 401, 'unauthorized')

    expectStatus(await refresh(phone.refreshToken), 200)
  })

  it('logout revokes the sign-in; answers 204 for tokens already dead', async () => {
    const tenant = await seedTenant()
    const session = await login(tenant)
    const next = json<Session>(await refresh(session.refreshToken))

    const out = await call('/v1/auth/logout', { body: { refreshToken: next.refreshToken } })
    expectStatus(out, 204)
    expect(roundTrips(out)).toBe(1)
    expectProblem(await refresh(next.refreshToken), 401, 'unauthorized')

    expectStatus(await call('/v1/auth/logout', { body: { refreshToken: next.refreshToken } }), 204)
  })
})
