import { z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { RoleSchema } from '../auth/views'
import { invitations } from '../db/schema'
import { timestamp } from '../platform/openapi'
import { isoTimestamp } from '../platform/sql-helpers'

export const UserView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    createdAt: timestamp(),
  })
  .openapi('StaffUser')

export const InvitationView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: RoleSchema,
    status: z.enum(['pending', 'expired']),
    invitedBy: z.uuid().nullable().openapi({ description: 'The inviting user, if still known' }),
    expiresAt: timestamp(),
    createdAt: timestamp(),
  })
  .openapi('Invitation')

export const userView = (row: {
  id: string
  email: string
  name: string
  role: z.infer<typeof RoleSchema>
  createdAt: Date
}): z.infer<typeof UserView> => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
})

/**
 * `InvitationView` built by Postgres, for the invite whose response is stored for replays:
 * the first answer and every replay come from this one expression. Null for no such row.
 */
export const invitationBody = (organizationId: string, id: string) => sql`(
  select jsonb_build_object('id', ${invitations.id}, 'email', ${invitations.email},
    'name', ${invitations.name}, 'role', ${invitations.role},
    'status', case when ${invitations.expiresAt} <= now() then 'expired' else 'pending' end,
    'invitedBy', ${invitations.invitedBy},
    'expiresAt', ${isoTimestamp(sql`${invitations.expiresAt}`)},
    'createdAt', ${isoTimestamp(sql`${invitations.createdAt}`)})
  from ${invitations}
  where ${invitations.id} = ${id}::uuid
    and ${invitations.organizationId} = ${organizationId}::uuid)`
