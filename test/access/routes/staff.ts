import { invitations } from '../../../src/db/schema'
import { defineRoutes } from '../matrix'
import { database, unique } from '../tenant'

/** A pending invitation in the target organization, written directly. */
async function pendingInvitation(organizationId: string) {
  const [row] = await database()
    .insert(invitations)
    .values({
      organizationId,
      email: `invited-${unique()}@firm.test`,
      role: 'member',
      tokenHash: `matrix-${unique()}`,
      expiresAt: new Date(Date.now() + 3_600_000),
    })
    .returning({ id: invitations.id })
  if (!row) throw new Error('invitation not created')
  return row.id
}

export const routes = defineRoutes([
  { route: 'GET /v1/users', access: { staff: 'member' }, crossTenant: 'isolated' },
  {
    route: 'PATCH /v1/users/{id}',
    access: { staff: 'manager' },
    params: (t) => ({ id: t.staff.member.id }),
    body: () => ({ role: 'member' }),
  },
  {
    route: 'DELETE /v1/users/{id}',
    access: { staff: 'manager' },
    params: (t) => ({ id: t.staff.member.id }),
  },
  { route: 'GET /v1/invitations', access: { staff: 'manager' }, crossTenant: 'isolated' },
  {
    route: 'POST /v1/invitations',
    access: { staff: 'manager' },
    body: () => ({ email: `matrix-${unique()}@firm.test`, role: 'member' }),
    crossTenant: 'isolated',
  },
  {
    route: 'DELETE /v1/invitations/{id}',
    access: { staff: 'manager' },
    params: async (t) => ({ id: await pendingInvitation(t.organization.id) }),
  },
  {
    route: 'POST /v1/invitations/accept',
    access: { public: 'the invitation token is the credential' },
    body: () => ({ token: `cmi_${'A'.repeat(43)}`, password: 'a long enough password' }),
  },
])
