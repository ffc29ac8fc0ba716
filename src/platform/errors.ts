import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** The closed list of machine codes a client can rely on, each with its HTTP status. */
export const errorStatus = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  invalid_transition: 409,
  idempotency_in_progress: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  misconfigured: 500,
  dependency_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof errorStatus

export const errorTitles: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  invalid_json: 'Malformed JSON body',
  validation_failed: 'Validation failed',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  invalid_transition: 'Transition not allowed',
  idempotency_in_progress: 'A request with this idempotency key is still running',
  precondition_failed: 'Precondition failed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  idempotency_key_reused: 'Idempotency key reused with another request',
  unprocessable: 'Unprocessable request',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  misconfigured: 'Server misconfigured',
  dependency_unavailable: 'Service temporarily unavailable',
}

/** One failing field of a validation error; `path` is a JSON-pointer-like dotted path. */
export interface FieldError {
  path: string
  message: string
  code: string
}

export interface ApiErrorOptions {
  detail?: string
  errors?: FieldError[]
  headers?: Record<string, string>
  /** Extra members for the problem body, e.g. `dependency` on a 503. */
  extensions?: Record<string, unknown>
  cause?: unknown
}

/** The one error type the API throws; `onError` turns it into problem+json. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: ContentfulStatusCode
  readonly detail: string | undefined
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string> | undefined
  readonly extensions: Record<string, unknown> | undefined

  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    super(options.detail ?? errorTitles[code], { cause: options.cause })
    this.name = 'ApiError'
    this.code = code
    this.status = errorStatus[code]
    this.detail = options.detail
    this.errors = options.errors
    this.headers = options.headers
    this.extensions = options.extensions
  }
}

/** RFC 9457 problem details, with our stable `code` and the request id. */
export interface Problem {
  type: string
  title: string
  status: number
  code: ErrorCode
  detail?: string
  instance?: string
  requestId: string
  errors?: FieldError[]
  [extension: string]: unknown
}

export function problemFor(error: ApiError, requestId: string, instance?: string): Problem {
  return {
    ...error.extensions,
    type: `urn:currentmesh:problem:${error.code}`,
    title: errorTitles[error.code],
    status: error.status,
    code: error.code,
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    ...(instance === undefined ? {} : { instance }),
    requestId,
    ...(error.errors === undefined ? {} : { errors: error.errors }),
  }
}

export const notFound = (what = 'resource') =>
  new ApiError('not_found', { detail: `The ${what} does not exist.` })
