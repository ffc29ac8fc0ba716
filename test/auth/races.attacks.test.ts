// Races on single-use credentials and on role changes. Under PGlite requests serialize;
// under PostgreSQL (TEST_DATABASE_URL) they really run at once. Either way the rules hold.
import { and, eq, isNull } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { refreshTokens, users } from '../../src/db/schema'
import {
  call,
  database,
  expectStatus,
  json,
  latestMail,
  password,
  seedTenant,
  tokenIn,
  unique,
} from '../access/tenant'

const at = (count: number) => Array.from({ length: count }, (_, index) => index)

describe('races', () => {
  it('eight tabs refreshing one token at once all get their own token of one family', async () => {
    const tenant = await seedTenant()
    const body = { organization: tenant.organization.slug, email: tenant.staff.admin.email, password }
    const { refreshToken } = json<{ refreshToken: string }>(await call('/v1/auth/login', { body }))

    const answers = await Promise.all(
      at(8).map(() => call('/v1/auth/refresh', { body: { refreshToken } })),
    )
    for (const answer of answers) expectStatus(answer, 200)
    const tokens = answers.map((answer) => json<{ refreshToken: string }>(answer).refreshToken)
    expect(new Set(tokens).size).toBe(8)

    const rows = await database()
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.userId, tenant.staff.admin.id))
    expect(rows).toHaveLength(9)
    expect(new Set(rows.map((row) => row.familyId)).size).toBe(1)
  })

  it('eight consumers of one sign-in link: exactly one session', async () => {
    const tenant = await seedTenant()
    await call('/v1/portal/auth/links', {
      body: { organization: tenant.organization.slug, email: tenant.contact.email },
    })
    const token = tokenIn((await latestMail(tenant.contact.email))?.text ?? '', 'cml_')

    const answers = await Promise.all(
      at(8).map(() => call('/v1/portal/auth/sessions', { body: { token } })),
    )
    const statuses = answers.map((answer) => answer.status).sort()
    expect(statuses).toEqual([201, ...at(7).map(() => 401)])
  })

  it('eight acceptances of one invitation: exactly one user', async () => {
    const tenant = await seedTenant()
    const email = `race-${unique()}@firm.test`
    await call('/v1/invitations', {
      token: tenant.staff.owner.token,
      body: { email, role: 'member' },
    })
    const token = tokenIn((await latestMail(email))?.text ?? '', 'cmi_')

    const answers = await Promise.all(
      at(8).map((index) =>
        call('/v1/invitations/accept', { body: { token, password: `password number ${index}` } }),
      ),
    )
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, ...at(7).map(() => 401)])
    const created = await database()
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.email, email), eq(users.organizationId, tenant.organization.id)))
    expect(created).toHaveLength(1)
  })

  it('two owners demoting each other at once never leave the firm without an owner', async () => {
    for (const round of at(4)) {
      const tenant = await seedTenant()
      const { owner, admin } = tenant.staff
      const promoted = await call(`/v1/users/${admin.id}`, {
        method: 'PATCH',
        token: owner.token,
        body: { role: 'owner' },
      })
      expectStatus(promoted, 200)
      const second = json<{ id: string }>(promoted)
      const login = await call('/v1/auth/login', {
        body: { organization: tenant.organization.slug, email: admin.email, password },
      })
      const secondToken = json<{ accessToken: string }>(login).accessToken

      const demote = (token: string, id: string) =>
        call(`/v1/users/${id}`, { method: 'PATCH', token, body: { role: 'member' } })
      const answers = await Promise.all([demote(owner.token, second.id), demote(secondToken, owner.id)])

      const statuses = answers.map((answer) => answer.status)
      for (const status of statuses) expect([200, 401, 409], `round ${round}`).toContain(status)
      expect(statuses.filter((status) => status === 200).length, `round ${round}`).toBeLessThan(2)
      const owners = await database()
        .select({ id: users.id })
        .from(users)
        .where(
          and(
            eq(users.organizationId, tenant.organization.id),
            eq(users.role, 'owner'),
            isNull(users.removedAt),
          ),
        )
      expect(owners.length, `round ${round}`).toBeGreaterThanOrEqual(1)
    }
  })
})
