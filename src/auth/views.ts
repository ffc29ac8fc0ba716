import { z } from '@hono/zod-openapi'
import { staffRoles } from '../db/schema'
import type { Config } from '../env'
import type { StaffRole } from './roles'
import { signStaffToken } from './tokens'

// Postgres text cannot hold U+0000; refusing it here names the field instead of failing in SQL.
const withoutNul = (value: string) => !value.includes('\u0000')
const nulMessage = 'must not contain the NUL character (U+0000)'

/** Emails are compared case-folded: stored and looked up in lower case. */
export const EmailInput = z
  .email()
  .max(254)
  .refine(withoutNul, nulMessage)
  .transform((email) => email.toLowerCase())
  .openapi({ example: 'ada@example.com' })

export const PasswordInput = z
  .string()
  .min(12, 'at least 12 characters')
  .max(256)
  .refine(withoutNul, nulMessage)
  .openapi({ description: '12 to 256 characters', example: 'correct horse battery staple' })

/** A password as typed at login, of whatever length the stored rule ever allowed. */
export const LoginPasswordInput = z.string().min(1).max(256).refine(withoutNul, nulMessage)

export const NameInput = z.string().trim().min(1).max(200).refine(withoutNul, nulMessage)

/** Slugs are case-folded like emails, so `Acme-Audit` names the firm `acme-audit`. */
export const SlugInput = z
  .string()
  .refine(withoutNul, nulMessage)
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/, 'letters, digits and inner hyphens')
  .openapi({
    description: 'Public handle of the organization, 3 to 63 characters, case-insensitive',
    example: 'acme-audit',
  })

export const RoleSchema = z.enum(staffRoles).openapi('StaffRole')

export const OrganizationView = z
  .object({ id: z.uuid(), name: z.string(), slug: z.string() })
  .openapi('Organization')

export const MeView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    organization: OrganizationView,
  })
  .openapi('Me')

export const StaffSessionView = z
  .object({
    accessToken: z.string().openapi({ description: 'Staff JWT for the Authorization header' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ description: 'Seconds until the access token expires' }),
    refreshToken: z
      .string()
      .openapi({ description: 'Opaque, single use: POST it to /v1/auth/refresh' }),
    refreshExpiresIn: z.number().int(),
    user: MeView,
  })
  .openapi('StaffSession')

export type Me = z.infer<typeof MeView>

export interface SessionUser {
  id: string
  email: string
  name: string
  role: StaffRole
  authVersion: number
  organizationId: string
  organizationName: string
  organizationSlug: string
}

export const meOf = (user: SessionUser): Me => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  organization: {
    id: user.organizationId,
    name: user.organizationName,
    slug: user.organizationSlug,
  },
})

/** Signs an access token from the stored user (role and version as stored now). */
export async function staffSession(config: Config, user: SessionUser, refreshToken: string) {
  const accessToken = await signStaffToken(config, {
    kind: 'staff',
    userId: user.id,
    organizationId: user.organizationId,
    role: user.role,
    authVersion: user.authVersion,
  })
  return {
    accessToken,
    tokenType: 'Bearer' as const,
    expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    refreshExpiresIn: config.REFRESH_TOKEN_TTL_SECONDS,
    user: meOf(user),
  }
}
