import { z } from '@hono/zod-openapi'
import { RoleSchema } from '../auth/views'
import { timestamp } from '../platform/openapi'

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
