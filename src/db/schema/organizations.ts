import { sql } from 'drizzle-orm'
import { index, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { at, id, timestamps } from './columns'

export const organizations = pgTable(
  'organizations',
  {
    id: id(),
    name: text('name').notNull(),
    // Public handle the client portal uses to say which firm a contact belongs to.
    slug: text('slug').notNull(),
    ...timestamps,
  },
  (table) => [uniqueIndex('organizations_slug_key').on(table.slug)],
)

export const staffRoles = ['owner', 'admin', 'manager', 'member'] as const
export const staffRole = pgEnum('staff_role', staffRoles)

export const users = pgTable(
  'users',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    // Stored case-folded; uniqueness is per organization.
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: staffRole('role').notNull(),
    passwordHash: text('password_hash'),
    // Bumped on role change or removal so outstanding sessions can be checked cheaply.
    authVersion: integer('auth_version').notNull().default(1),
    removedAt: at('removed_at'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('users_organization_email_key').on(table.organizationId, table.email),
    index('users_organization_role_idx').on(table.organizationId, table.role),
  ],
)

export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    name: text('name'),
    role: staffRole('role').notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: at('expires_at').notNull(),
    acceptedAt: at('accepted_at'),
    revokedAt: at('revoked_at'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('invitations_token_hash_key').on(table.tokenHash),
    index('invitations_organization_idx').on(table.organizationId, table.createdAt),
    uniqueIndex('invitations_pending_email_key')
      .on(table.organizationId, table.email)
      .where(sql`accepted_at is null and revoked_at is null`),
  ],
)

/** Opaque refresh tokens, stored only as hashes; one family per sign-in (RFC 9700 §4.14). */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: at('expires_at').notNull(),
    rotatedAt: at('rotated_at'),
    replacedBy: uuid('replaced_by'),
    revokedAt: at('revoked_at'),
    createdAt: timestamps.createdAt,
  },
  (table) => [
    uniqueIndex('refresh_tokens_token_hash_key').on(table.tokenHash),
    index('refresh_tokens_family_idx').on(table.familyId),
    index('refresh_tokens_user_idx').on(table.userId),
  ],
)
