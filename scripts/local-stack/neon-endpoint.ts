// A local server for Neon's "SQL over HTTP" protocol as @neondatabase/serverless 1.2 speaks it,
// so the production driver runs unchanged with only neonConfig.fetchEndpoint pointed here.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'

import { BackendUnavailableError, POSTGRES_ERROR_FIELDS, asPostgresError } from './backend.ts'
import type {
  Backend,
  BatchOptions,
  IsolationLevel,
  PostgresError,
  SqlParam,
  Statement,
  StatementResult,
} from './backend.ts'

export interface NeonEndpointOptions {
  /** 0 or unset picks a free port. */
  readonly port?: number
  readonly host?: '127.0.0.1'
  readonly backend: Backend
  readonly maxBodyBytes?: number
  readonly onError?: (message: string, error: unknown) => void
}

export interface NeonEndpoint {
  /** What neonConfig.fetchEndpoint should be set to, e.g. http://127.0.0.1:55433/sql */
  readonly url: string
  readonly port: number
  /** Stops the HTTP server; the backend belongs to the caller and stays open. */
  close(): Promise<void>
}

/** A refusal with a status and a short message; never carries a Postgres error code. */
class HttpError extends Error {
  override readonly name = 'HttpError'
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

function isLocalHostname(hostname: string): boolean {
  const host = hostname.toLowerCase()
  if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return true
  // RFC 6761: *.localhost never resolves off this machine, so names like pglite.localhost are safe.
  return host.endsWith('.localhost') && host.length > '.localhost'.length
}

/** Nothing is ever forwarded, but a production URL arriving here means misconfiguration. */
function assertLocalConnectionString(value: string | undefined): void {
  if (value === undefined || value === '') {
    throw new HttpError(400, 'missing Neon-Connection-String header')
  }

  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new HttpError(400, 'Neon-Connection-String is not a valid URL')
  }

  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new HttpError(400, 'Neon-Connection-String must use postgres: or postgresql:')
  }
  if (!isLocalHostname(parsed.hostname)) {
    throw new HttpError(403, `refusing non-local database host ${parsed.hostname}`)
  }
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const ISOLATION_LEVELS: readonly IsolationLevel[] = [
  'ReadUncommitted',
  'ReadCommitted',
  'RepeatableRead',
  'Serializable',
]

function isIsolationLevel(value: string): value is IsolationLevel {
  return ISOLATION_LEVELS.some((level) => level === value)
}

function booleanHeader(request: IncomingMessage, name: string): boolean | undefined {
  const value = headerValue(request, name)
  if (value === undefined) return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  throw new HttpError(400, `${name} must be "true" or "false"`)
}

/** Only whitelisted header values become BatchOptions; BEGIN is then built from fixed text. */
function readBatchOptions(request: IncomingMessage): BatchOptions {
  const isolation = headerValue(request, 'neon-batch-isolation-level')
  if (isolation !== undefined && !isIsolationLevel(isolation)) {
    throw new HttpError(400, `unsupported Neon-Batch-Isolation-Level ${JSON.stringify(isolation)}`)
  }

  return {
    isolationLevel: isolation,
    readOnly: booleanHeader(request, 'neon-batch-read-only'),
    deferrable: booleanHeader(request, 'neon-batch-deferrable'),
  }
}

function readParams(value: unknown): SqlParam[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new HttpError(400, 'params must be an array')

  return value.map(function toSqlParam(param: unknown): SqlParam {
    if (param === null || typeof param === 'string') return param
    // The driver always sends text; accept plain scalars from hand-written requests too.
    if (typeof param === 'number' || typeof param === 'boolean') return String(param)
    throw new HttpError(400, 'each parameter must be a string or null')
  })
}

function readStatement(value: unknown): Statement {
  if (typeof value !== 'object' || value === null) {
    throw new HttpError(400, 'each query must be an object')
  }
  const query: unknown = Reflect.get(value, 'query')
  if (typeof query !== 'string') throw new HttpError(400, 'query must be a string')

  return { query, params: readParams(Reflect.get(value, 'params')) }
}

type SqlRequest =
  | { readonly kind: 'single'; readonly statement: Statement }
  | { readonly kind: 'batch'; readonly statements: Statement[] }

function readSqlRequest(body: unknown): SqlRequest {
  if (typeof body !== 'object' || body === null) {
    throw new HttpError(400, 'request body must be a JSON object')
  }

  const queries: unknown = Reflect.get(body, 'queries')
  if (queries === undefined) return { kind: 'single', statement: readStatement(body) }
  if (!Array.isArray(queries)) throw new HttpError(400, 'queries must be an array')

  return { kind: 'batch', statements: queries.map(readStatement) }
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0

  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > maxBytes) throw new HttpError(413, `request body exceeds ${maxBytes} bytes`)
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // The driver sends text/plain, so the content, not the Content-Type, decides.
    throw new HttpError(400, 'request body is not valid JSON')
  }
}

/** The driver reads fields and rows even for CREATE or empty results, so both are always sent. */
function resultBody(result: StatementResult, arrayMode: boolean): Record<string, unknown> {
  const rows = arrayMode
    ? result.rows
    : result.rows.map(function rowToObject(row) {
        return Object.fromEntries(result.fields.map((field, index) => [field.name, row[index]]))
      })

  return {
    fields: result.fields,
    command: result.command,
    rowCount: result.rowCount,
    rows,
    rowAsArray: arrayMode,
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  })
  response.end(payload)
}

/** HTTP 400 with message plus the 16 fields is what makes err.code reach the app. */
function postgresErrorBody(error: PostgresError): Record<string, string> {
  const body: Record<string, string> = { message: error.message }
  for (const name of POSTGRES_ERROR_FIELDS) {
    const value = error.fields[name]
    if (value !== undefined) body[name] = value
  }
  return body
}

export function startNeonEndpoint(options: NeonEndpointOptions): Promise<NeonEndpoint> {
  const { backend } = options
  const host = options.host ?? '127.0.0.1'
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const onError = options.onError ?? reportToStderr

  async function handleSql(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST')
      throw new HttpError(405, 'use POST')
    }
    assertLocalConnectionString(headerValue(request, 'neon-connection-string'))

    const sqlRequest = readSqlRequest(parseJson(await readBody(request, maxBodyBytes)))
    // Raw-Text-Output is always "true" from the driver; values are always sent as text.
    const arrayMode = headerValue(request, 'neon-array-mode') !== 'false'

    if (sqlRequest.kind === 'single') {
      const { query, params } = sqlRequest.statement
      const result = await backend.query(query, params)
      sendJson(response, 200, resultBody(result, arrayMode))
      return
    }

    const results = await backend.batch(sqlRequest.statements, readBatchOptions(request))
    sendJson(response, 200, { results: results.map((result) => resultBody(result, arrayMode)) })
  }

  async function handleHealth(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET') {
      response.setHeader('allow', 'GET')
      throw new HttpError(405, 'use GET')
    }

    try {
      await backend.query('select 1', [])
      sendJson(response, 200, { ok: true, backend: backend.kind })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      sendJson(response, 503, { ok: false, backend: backend.kind, message })
    }
  }

  function sendFailure(response: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      sendJson(response, error.status, { message: error.message })
      return
    }

    const postgresError = asPostgresError(error)
    if (postgresError !== undefined) {
      sendJson(response, 400, postgresErrorBody(postgresError))
      return
    }

    if (error instanceof BackendUnavailableError) {
      sendJson(response, 502, { message: error.message })
      return
    }

    onError('neon endpoint internal error', error)
    sendJson(response, 500, { message: 'internal error in local neon endpoint' })
  }

  const server = createServer(function handleRequest(request, response) {
    const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1')
    const route =
      pathname === '/sql' ? handleSql : pathname === '/_local/health' ? handleHealth : undefined

    if (route === undefined) {
      sendJson(response, 404, { message: `no route for ${pathname}` })
      return
    }

    route(request, response).catch(function onRouteError(error: unknown) {
      if (response.headersSent) {
        response.destroy()
        return
      }
      sendFailure(response, error)
    })
  })

  return listen(server, host, options.port ?? 0, '/sql')
}

function reportToStderr(message: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
  process.stderr.write(`${JSON.stringify({ msg: message, error: detail })}\n`)
}

type Server = ReturnType<typeof createServer>

export interface ListeningServer {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Listens and resolves with the bound port, which differs from `port` when that is 0. */
export function listen(
  server: Server,
  host: string,
  port: number,
  path: string,
): Promise<ListeningServer> {
  return new Promise(function startListening(resolve, reject) {
    server.once('error', reject)
    server.listen(port, host, function onListening() {
      server.off('error', reject)
      const address = server.address()
      if (address === null || typeof address === 'string') {
        reject(new Error('server is not listening on a TCP port'))
        return
      }
      const boundPort = address.port

      resolve({
        url: `http://${host}:${boundPort}${path}`,
        port: boundPort,
        close: () => closeServer(server),
      })
    })
  })
}

/** Keep-alive sockets from workerd would otherwise hold close() open until they time out. */
export function closeServer(server: Server): Promise<void> {
  return new Promise(function stopListening(resolve, reject) {
    if (!server.listening) {
      resolve()
      return
    }
    server.close((error) => (error === undefined ? resolve() : reject(error)))
    server.closeAllConnections()
  })
}
