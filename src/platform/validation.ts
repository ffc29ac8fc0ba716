import type { Hook } from '@hono/zod-openapi'
import type { z } from 'zod'
import { ApiError, type FieldError } from './errors'
import type { AppEnv } from './hono'

const targetRoots: Record<string, string> = {
  json: 'body',
  form: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
  cookie: 'cookie',
}

/** zod issues as stable field errors: `body.items.3.title`, never zod's own format. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], root: string): FieldError[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [root, ...issue.path.map(String), key].join('.'),
        message: 'Unknown field',
        code: 'unknown_field',
      }))
    }
    return [
      {
        path: [root, ...issue.path.map(String)].join('.'),
        message: issue.message,
        code: issue.code,
      },
    ]
  })
}

/** Sends every request-validation failure down the one error path. */
export const validationHook: Hook<unknown, AppEnv, string, void> = (result) => {
  if (result.success) return
  const root = targetRoots[result.target] ?? result.target
  throw new ApiError('validation_failed', {
    detail: 'One or more fields are invalid.',
    errors: fieldErrors(result.error.issues, root),
  })
}
