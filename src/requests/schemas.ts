import { z } from '@hono/zod-openapi'
import { actorTypes, itemStatuses, priorities, requestStatuses } from '../db/schema'
import { timestamp } from '../platform/openapi'
import { PageQuery } from '../platform/pagination'

export const Priority = z.enum(priorities).openapi('Priority')
export const RequestStatus = z.enum(requestStatuses).openapi('RequestStatus')
export const ItemStatus = z.enum(itemStatuses).openapi('ItemStatus')

const day = () => z.iso.date().openapi({ example: '2026-12-31' })

// Postgres text cannot hold U+0000: refused here, so the error names the field.
export const withoutNul = { message: 'Must not contain NUL (U+0000) characters' }
export const noNul = (value: string) => !value.includes('\u0000')

const text = (max: number) => z.string().trim().min(1).max(max).refine(noNul, withoutNul)
const optionalText = (max: number) =>
  z.string().trim().max(max).refine(noNul, withoutNul).nullable().optional()

// Postgres stores years from 4713 BC, zod accepts 0000 (which Postgres refuses): inputs keep
// to years an audit can mean.
const sensibleYear = (value: string) => {
  const year = Number(value.slice(0, 4))
  return year >= 1900 && year <= 9999
}
const yearRange = { message: 'Years 1900 to 9999 only' }

/** A day (YYYY-MM-DD) as an input: a real calendar day in years 1900–9999. */
export const DayInput = z.iso
  .date()
  .refine(sensibleYear, yearRange)
  .openapi({ example: '2026-12-31', description: 'YYYY-MM-DD, years 1900 to 9999' })

const Named = z.object({ id: z.uuid(), name: z.string() })

const Person = z
  .object({
    type: z.enum(actorTypes),
    id: z.uuid().nullable(),
    name: z.string().nullable(),
  })
  .openapi('Person')

export const Progress = z
  .object({
    open: z.number().int(),
    submitted: z.number().int(),
    accepted: z.number().int(),
    returned: z.number().int(),
    total: z.number().int(),
  })
  .openapi('Progress', { description: 'Counts of the live items per status' })

export const RequestSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    description: z.string().nullable(),
    status: RequestStatus,
    priority: Priority,
    dueDate: day().nullable(),
    overdue: z.boolean().openapi({ description: 'Open (not completed or cancelled) and past due' }),
    client: Named,
    assignee: Named.nullable(),
    progress: Progress,
    revision: z.number().int(),
    sentAt: timestamp().nullable(),
    completedAt: timestamp().nullable(),
    cancelledAt: timestamp().nullable(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
    deletedAt: timestamp()
      .nullable()
      .openapi({ description: 'Set only on tombstones returned by `updatedSince` syncs' }),
  })
  .openapi('Request')

export const ItemSchema = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    reference: z.string(),
    section: z.string().nullable(),
    title: z.string(),
    description: z.string().nullable(),
    status: ItemStatus,
    returnReason: z.string().nullable(),
    dueDate: day()
      .nullable()
      .openapi({ description: 'The item’s own due date, else the request’s' }),
    ownDueDate: z.boolean(),
    priority: Priority.nullable(),
    position: z.number().int(),
    revision: z.number().int(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
    deletedAt: timestamp().nullable(),
  })
  .openapi('Item')

export const CommentSchema = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    itemId: z.uuid().nullable(),
    body: z.string(),
    internal: z.boolean(),
    author: Person,
    createdAt: timestamp(),
  })
  .openapi('Comment')

export const ActivityEventSchema = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    itemId: z.uuid().nullable(),
    action: z.string().openapi({ example: 'item.returned' }),
    actor: Person,
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    createdAt: timestamp(),
  })
  .openapi('ActivityEvent')

export const PortalRequestSchema = RequestSchema.pick({
  id: true,
  title: true,
  description: true,
  status: true,
  priority: true,
  dueDate: true,
  overdue: true,
  progress: true,
  sentAt: true,
  completedAt: true,
  updatedAt: true,
}).openapi('PortalRequest')

export const PortalItemSchema = ItemSchema.pick({
  id: true,
  requestId: true,
  reference: true,
  section: true,
  title: true,
  description: true,
  status: true,
  returnReason: true,
  dueDate: true,
  updatedAt: true,
}).openapi('PortalItem')

export const PortalCommentSchema = CommentSchema.omit({ internal: true }).openapi('PortalComment')

/** The item fields a PBC list can set, by their API names. */
export const importFields = ['section', 'title', 'description', 'dueDate', 'priority'] as const
export type ImportField = (typeof importFields)[number]

export const ImportResultSchema = z
  .object({
    dryRun: z.boolean(),
    rows: z.number().int(),
    created: z.array(z.string()).openapi({ description: 'References of new items' }),
    updated: z.array(z.string()).openapi({ description: 'References of changed items' }),
    unchanged: z.array(z.string()),
    changes: z
      .array(z.object({ reference: z.string(), fields: z.array(z.enum(importFields)) }))
      .openapi({ description: 'For each updated item, in file order: the fields that change' }),
  })
  .openapi('ImportResult')

// ---- Input ----

export const CreateRequestBody = z
  .strictObject({
    clientId: z.uuid(),
    title: text(200),
    description: optionalText(5000),
    priority: Priority.default('medium'),
    dueDate: DayInput.nullable().optional(),
    assigneeId: z.uuid().nullable().optional(),
  })
  .openapi('CreateRequest')

const atLeastOne = (value: object) => Object.values(value).some((field) => field !== undefined)

export const UpdateRequestBody = z
  .strictObject({
    title: text(200).optional(),
    description: optionalText(5000),
    priority: Priority.optional(),
    dueDate: DayInput.nullable().optional(),
  })
  .refine(atLeastOne, 'Send at least one field to change')
  .openapi('UpdateRequest')

export const TransitionBody = z
  .strictObject({ to: z.enum(['sent', 'in_progress', 'completed', 'cancelled']) })
  .openapi('RequestTransition')

export const AssigneeBody = z
  .strictObject({ assigneeId: z.uuid().nullable() })
  .openapi('RequestAssignee')

const reference = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[^\s,;]+( [^\s,;]+)*$/, 'No commas, semicolons or repeated spaces')
  .refine(noNul, withoutNul)
  .openapi({ example: 'C-2' })

export const itemFields = {
  reference,
  section: optionalText(120),
  title: text(300),
  description: optionalText(5000),
  dueDate: DayInput.nullable().optional(),
  priority: Priority.nullable().optional(),
}

export const CreateItemBody = z.strictObject(itemFields).openapi('CreateItem')

export const UpdateItemBody = z
  .strictObject({
    ...itemFields,
    reference: reference.optional(),
    title: text(300).optional(),
    position: z.number().int().min(0).max(1_000_000).optional(),
  })
  .refine(atLeastOne, 'Send at least one field to change')
  .openapi('UpdateItem')

export const ReturnItemBody = z
  .strictObject({ reason: text(2000).openapi({ description: 'Shown to the client' }) })
  .openapi('ReturnItem')

export const CreateCommentBody = z
  .strictObject({
    body: text(10_000),
    itemId: z.uuid().optional().openapi({ description: 'Comment on this item of the request' }),
    internal: z
      .boolean()
      .default(false)
      .openapi({ description: 'Staff only; never in the portal' }),
  })
  .openapi('CreateComment')

export const PortalCommentBody = CreateCommentBody.omit({ internal: true }).openapi(
  'CreatePortalComment',
)

// ---- Query strings ----

const listOf = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((value) => value.split(',').map((part) => part.trim()))
    .pipe(z.array(item).min(1))

const flag = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true')
  .optional()

const search = z.string().trim().min(1).max(100).refine(noNul, withoutNul).optional()

const updatedSince = timestamp()
  .refine(sensibleYear, yearRange)
  .optional()
  .openapi({ description: 'Sync: rows changed at or after this instant, tombstones included' })

export const requestSorts = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'dueDate',
  '-dueDate',
] as const

export const RequestListQuery = PageQuery.extend({
  q: search.openapi({ description: 'Substring of the title or of an item’s reference or title' }),
  status: listOf(RequestStatus).optional().openapi({ description: 'Comma-separated statuses' }),
  clientId: z.uuid().optional(),
  assigneeId: z.uuid().optional(),
  priority: listOf(Priority).optional().openapi({ description: 'Comma-separated priorities' }),
  dueBefore: DayInput.optional().openapi({ description: 'Due on or before this day' }),
  dueAfter: DayInput.optional().openapi({ description: 'Due on or after this day' }),
  overdue: flag,
  updatedSince,
  sort: z.enum(requestSorts).optional().openapi({
    description: 'Default `-createdAt`; `updatedAt` when `updatedSince` is given',
  }),
})

export const ItemListQuery = PageQuery.extend({
  q: search.openapi({ description: 'Substring of the reference or title' }),
  status: listOf(ItemStatus).optional(),
  updatedSince,
})

export const ItemSyncQuery = ItemListQuery.extend({
  requestId: z.uuid().optional(),
  sort: z.enum(['updatedAt', '-updatedAt']).default('updatedAt'),
})

export const CommentListQuery = PageQuery.extend({ itemId: z.uuid().optional() })

export const ActivityListQuery = PageQuery.extend({ itemId: z.uuid().optional() })

export const PortalRequestListQuery = PageQuery.extend({
  status: listOf(RequestStatus).optional(),
})

export const ImportQuery = z.object({
  dryRun: flag.openapi({ description: 'Check and report only; nothing is written' }),
})
