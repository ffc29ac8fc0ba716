import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ErrorHandler, NotFoundHandler } from 'hono'
import { isDatabaseUnreachable, postgresError } from './database'
import { ApiError, type ErrorCode, problemFor } from './errors'
import type { AppContext, AppEnv } from './hono'
import { createLogger, describeError } from './logger'

const codeForStatus: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'dependency_unavailable',
}

/** Hono's own exceptions (body parsing, media-type gate, body limit) in our vocabulary. */
function fromHttpException(error: HTTPException): ApiError {
  if (error.status === 400 && /json/i.test(error.message)) {
    return new ApiError('invalid_json', {
      detail: 'The request body is not valid JSON.',
      cause: error,
    })
  }
  const code = codeForStatus[error.status] ?? (error.status >= 500 ? 'internal' : 'bad_request')
  return new ApiError(code, { cause: error })
}

// Data exceptions (SQLSTATE class 22) are bad input that validation let through, such as a
// NUL character or a year Postgres cannot store: the caller's fault, never a 500.
const rejectedValueCodes = new Set(['22001', '22003', '22007', '22008', '22021', '22P02', '22P05'])

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof HTTPException) return fromHttpException(error)
  const pg = postgresError(error)
  if (pg?.code !== undefined && rejectedValueCodes.has(pg.code)) {
    return new ApiError('bad_request', {
      detail: 'A value cannot be stored (for example a NUL character or an out-of-range date).',
      cause: error,
    })
  }
  if (isDatabaseUnreachable(error)) {
    return new ApiError('dependency_unavailable', {
      detail: 'The database is unreachable; retry shortly.',
      headers: { 'retry-after': '5' },
      extensions: { dependency: 'database' },
      cause: error,
    })
  }
  return new ApiError('internal', { detail: 'An unexpected error occurred.', cause: error })
}

export function problemResponse(c: AppContext, error: ApiError): Response {
  const body = problemFor(error, c.get('requestId') ?? 'unknown', c.req.path)
  return c.body(JSON.stringify(body), error.status as ContentfulStatusCode, {
    ...error.headers,
    'content-type': 'application/problem+json',
  })
}

/**
 * Three tiers: our errors are expected (only 5xx are logged), framework errors are mapped
 * by status, anything else is a bug logged in full and answered with a body that leaks nothing.
 */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const apiError = toApiError(error)
  if (apiError.status >= 500) {
    const log = c.get('log') ?? createLogger({ requestId: c.get('requestId') })
    log.error('request failed', { code: apiError.code, ...describeError(error) })
  }
  return problemResponse(c, apiError)
}

/** A route pattern (`/v1/requests/:id`) as a regular expression over concrete paths. */
const patternOf = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}$`)

/**
 * Unmatched requests: 405 with `Allow` when the path exists under other methods (RFC 9110
 * §15.5.6), else 404. Built from the app's own route table, so it cannot drift from it.
 */
export function notFoundHandler(routes: readonly { method: string; path: string }[]) {
  // Read on first use: routes are registered after the handler is.
  let table: { method: string; pattern: RegExp }[] | undefined
  const methodsFor = (path: string) => {
    table ??= routes
      .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
      .map((route) => ({ method: route.method, pattern: patternOf(route.path) }))
    return [...new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method))]
  }

  const handler: NotFoundHandler<AppEnv> = (c) => {
    const allowed = methodsFor(c.req.path)
    if (allowed.length > 0) {
      return problemResponse(
        c,
        new ApiError('method_not_allowed', {
          detail: `${c.req.method} is not allowed on ${c.req.path}.`,
          headers: { allow: allowed.join(', ') },
        }),
      )
    }
    return problemResponse(
      c,
      new ApiError('not_found', { detail: `No route for ${c.req.method} ${c.req.path}.` }),
    )
  }
  return handler
}
