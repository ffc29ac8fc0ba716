import { timestamp, uuid } from 'drizzle-orm/pg-core'

/** Column groups shared by tables; `timestamp with time zone` everywhere. */
export const id = () => uuid('id').primaryKey().defaultRandom()

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}

export const softDelete = {
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
}

export const at = (name: string) => timestamp(name, { withTimezone: true })
