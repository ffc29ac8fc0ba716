import { type Hook, z } from '@hono/zod-openapi'
import { type ErrorCode, errorStatus, notFound } from './errors'
import type { AppEnv } from './hono'
import { validationHook } from './validation'

const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]

export const FieldErrorSchema = z
  .object({
    path: z.string().openapi({ example: 'body.email' }),
    message: z.string(),
    code: z.string().openapi({ example: 'invalid_format' }),
  })
  .openapi('FieldError')

/** The RFC 9457 body every failure leaves as (see `problemFor`). */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:currentmesh:problem:not_found' }),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(errorCodes),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .openapi('Problem')

const problemDescriptions: Record<number, string> = {
  400: 'Invalid input: malformed JSON, a failing field or an unknown field',
  401: 'Missing, expired or otherwise invalid credentials',
  403: 'The caller’s role does not allow this',
  404: 'Not found; also the answer for another organization’s objects',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Body is not JSON',
}

type ProblemResponse = {
  description: string
  content: { 'application/problem+json': { schema: typeof ProblemSchema } }
}

/** Problem responses for a route's `responses`, e.g. `...problems(400, 401, 404)`. */
export function problems<S extends number>(...statuses: S[]): Record<S, ProblemResponse> {
  const entries = statuses.map((status) => [
    status,
    {
      description: problemDescriptions[status] ?? 'Error',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
  ])
  return Object.fromEntries(entries) as Record<S, ProblemResponse>
}

/** A required JSON request body; pair it with `z.strictObject` so unknown fields are refused. */
export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true as const,
  ...(description === undefined ? {} : { description }),
  content: { 'application/json': { schema } },
})

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const staffSecurity = [{ staffBearer: [] }]
export const portalSecurity = [{ portalBearer: [] }]
export const noSecurity = []

/** A path id: documented and checked as a UUID. */
export const uuidParam = (name: string) =>
  z.uuid().openapi({ param: { name, in: 'path' }, example: '0b6f1c1e-4d7a-4c36-9d6e-2f4f0a7f2b11' })

/**
 * Route hook: a path parameter that is not well formed answers 404 exactly like a missing
 * row, so ids cannot be probed and a bad value never reaches a uuid cast in SQL.
 */
export function missingOnBadPath<I, P extends string, R>(
  what: string,
): Hook<I, AppEnv, P, R | undefined> {
  return function missingOnBadPathHook(result, c) {
    if (!result.success && result.target === 'param') throw notFound(what)
    validationHook(result, c)
    return undefined
  }
}

/** ISO 8601 timestamps in responses. */
export const timestamp = () =>
  z.iso.datetime({ offset: true }).openapi({ example: '2026-12-03T21:56:08.853Z' })
