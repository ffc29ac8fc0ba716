// A local server for Upstash's Redis REST protocol as @upstash/redis 1.39 speaks it, backed by
// a real redis-server through node-redis, so the production client runs unchanged.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'

import { ErrorReply, MultiErrorReply, RESP_TYPES, createClient } from 'redis'

import { listen } from './neon-endpoint.ts'

export interface UpstashEndpointOptions {
  /** 0 or unset picks a free port. */
  readonly port?: number
  /** redis://127.0.0.1:6379/15 style; the path selects the database index. */
  readonly redisUrl: string
  readonly token: string
  readonly maxBodyBytes?: number
  readonly onError?: (message: string, error: unknown) => void
}

export interface UpstashEndpoint {
  /** What UPSTASH_REDIS_REST_URL should be, e.g. http://127.0.0.1:56380 */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

type RedisArgs = string[]
type Encoded = string | number | null | Encoded[]

/** A refusal that the client shows as UpstashError(message); always JSON with `error`. */
class RestError extends Error {
  override readonly name = 'RestError'
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

export function assertLocalRedisUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('Redis URL is not a valid URL')
  }

  if (parsed.protocol !== 'redis:') {
    throw new Error(`Redis URL must use redis:, got ${parsed.protocol}`)
  }
  if (!LOOPBACK_HOSTS.has(parsed.hostname.toLowerCase())) {
    throw new Error(`refusing non-loopback Redis host ${parsed.hostname}`)
  }
}

/** Commands that would change or take over the one shared connection for every request. */
const CONNECTION_STATE_COMMANDS = new Set([
  'select',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
  'quit',
  'reset',
  'hello',
  'auth',
  'client',
])

/** Blocking commands get a connection of their own so they cannot stall other requests. */
const BLOCKING_COMMANDS = new Set([
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
  'waitaof',
])

function isBlocking(args: RedisArgs): boolean {
  const name = args[0]?.toLowerCase() ?? ''
  if (BLOCKING_COMMANDS.has(name)) return true
  const isStreamRead = name === 'xread' || name === 'xreadgroup'
  return isStreamRead && args.some((arg) => arg.toLowerCase() === 'block')
}

/** The client sends numbers and booleans as JSON values; Redis only takes strings. */
function readCommand(value: unknown): RedisArgs {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RestError(400, 'ERR a command must be a non-empty JSON array')
  }

  const args = value.map(function toRedisArgument(item: unknown): string {
    if (typeof item === 'string') return item
    if (typeof item === 'number' || typeof item === 'boolean') return String(item)
    throw new RestError(400, 'ERR command arguments must be strings, numbers or booleans')
  })

  const name = args[0]?.toLowerCase() ?? ''
  if (CONNECTION_STATE_COMMANDS.has(name)) {
    throw new RestError(400, `ERR command '${name}' is not available on the local Upstash endpoint`)
  }
  return args
}

function readCommandList(value: unknown): RedisArgs[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RestError(400, 'ERR a pipeline must be a non-empty JSON array of commands')
  }
  return value.map(readCommand)
}

/**
 * With base64 encoding the client decodes every string it gets (inside arrays without
 * exception), so every string is encoded, status replies such as OK included, at any depth.
 */
function encodeReply(value: unknown, base64: boolean): Encoded {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return value
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return bytes.toString(base64 ? 'base64' : 'utf8')
  }
  if (Array.isArray(value)) return value.map((item: unknown) => encodeReply(item, base64))
  // Lua can nest an error reply inside a table; Redis sends it as an error element.
  if (value instanceof ErrorReply) return encodeText(value.message, base64)
  if (typeof value === 'boolean') return value ? 1 : 0
  return encodeText(String(value), base64)
}

function encodeText(text: string, base64: boolean): string {
  return base64 ? Buffer.from(text, 'utf8').toString('base64') : text
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

type Outcome = { result: Encoded } | { error: string }

function outcomeOf(settled: PromiseSettledResult<unknown>, base64: boolean): Outcome {
  if (settled.status === 'fulfilled') return { result: encodeReply(settled.value, base64) }
  return { error: errorMessage(settled.reason) }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

async function readJson(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > maxBytes) throw new RestError(413, `ERR request body exceeds ${maxBytes} bytes`)
    chunks.push(buffer)
  }

  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new RestError(400, 'ERR request body is not valid JSON')
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

function reportToStderr(message: string, error: unknown): void {
  process.stderr.write(`${JSON.stringify({ msg: message, error: errorMessage(error) })}\n`)
}

function connectRedis(redisUrl: string, onError: (message: string, error: unknown) => void) {
  const client = createClient({
    url: redisUrl,
    // Upstash answers in RESP2 shapes (HGETALL as a flat array); node-redis 6 defaults to RESP3.
    RESP: 2,
    // Fail requests while reconnecting instead of queueing them without limit.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: function boundedReconnect(retries: number) {
        if (retries >= 10) return new Error('gave up reconnecting to Redis after 10 attempts')
        return Math.min(100 * 2 ** retries, 2_000)
      },
    },
    // Bulk strings as Buffers keep arbitrary bytes exact through base64.
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })

  client.on('error', function onRedisError(error: unknown) {
    onError('redis client error', error)
  })
  return client
}

export async function startUpstashEndpoint(
  options: UpstashEndpointOptions,
): Promise<UpstashEndpoint> {
  assertLocalRedisUrl(options.redisUrl)
  if (options.token === '') throw new Error('the Upstash endpoint needs a non-empty token')

  const onError = options.onError ?? reportToStderr
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const expectedToken = digest(options.token)
  const redis = connectRedis(options.redisUrl, onError)
  await redis.connect()

  async function sendBlocking(args: RedisArgs): Promise<unknown> {
    const own = redis.duplicate()
    own.on('error', (error: unknown) => onError('redis blocking client error', error))
    await own.connect()
    try {
      return await own.sendCommand<unknown>(args)
    } finally {
      own.destroy()
    }
  }

  function send(args: RedisArgs): Promise<unknown> {
    return isBlocking(args) ? sendBlocking(args) : redis.sendCommand<unknown>(args)
  }

  function isAuthorized(request: IncomingMessage): boolean {
    const header = headerValue(request, 'authorization') ?? ''
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
    return timingSafeEqual(digest(token), expectedToken)
  }

  async function runSingle(body: unknown, base64: boolean): Promise<[number, unknown]> {
    const args = readCommand(body)
    try {
      return [200, { result: encodeReply(await send(args), base64) }]
    } catch (error) {
      if (error instanceof ErrorReply) return [400, { error: error.message }]
      throw new RestError(502, `ERR local Upstash endpoint lost Redis: ${errorMessage(error)}`)
    }
  }

  async function runPipeline(body: unknown, base64: boolean): Promise<[number, unknown]> {
    // node-redis writes these back to back on one socket, so they run in order, not atomically.
    const settled = await Promise.allSettled(readCommandList(body).map(send))
    return [200, settled.map((entry) => outcomeOf(entry, base64))]
  }

  async function runMultiExec(body: unknown, base64: boolean): Promise<[number, unknown]> {
    const commands = readCommandList(body)
    const transaction = redis.multi()
    for (const args of commands) transaction.addCommand(args)

    try {
      const replies: unknown[] = await transaction.exec()
      return [200, replies.map((reply) => ({ result: encodeReply(reply, base64) }))]
    } catch (error) {
      // EXEC ran, some commands failed: each keeps its own result or error.
      if (error instanceof MultiErrorReply) {
        const entries = error.replies.map(function toOutcome(reply: unknown): Outcome {
          return reply instanceof ErrorReply
            ? { error: reply.message }
            : { result: encodeReply(reply, base64) }
        })
        return [200, entries]
      }
      // Refused while queueing (unknown command, wrong arity): nothing ran.
      if (error instanceof ErrorReply) return [400, { error: error.message }]
      throw new RestError(502, `ERR local Upstash endpoint lost Redis: ${errorMessage(error)}`)
    }
  }

  const routes: Record<string, (body: unknown, base64: boolean) => Promise<[number, unknown]>> = {
    '/': runSingle,
    '/pipeline': runPipeline,
    '/multi-exec': runMultiExec,
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!isAuthorized(request)) throw new RestError(401, 'Unauthorized')

    const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1')
    const route = routes[pathname]
    if (route === undefined) throw new RestError(404, `ERR no route for ${pathname}`)
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST')
      throw new RestError(405, 'ERR only POST is supported by the local Upstash endpoint')
    }

    const base64 = headerValue(request, 'upstash-encoding')?.toLowerCase() === 'base64'
    const [status, body] = await route(await readJson(request, maxBodyBytes), base64)
    sendJson(response, status, body)
  }

  const server = createServer(function handleRequest(request, response) {
    handle(request, response).catch(function onRequestError(error: unknown) {
      if (response.headersSent) {
        response.destroy()
        return
      }
      if (error instanceof RestError) {
        sendJson(response, error.status, { error: error.message })
        return
      }
      onError('upstash endpoint internal error', error)
      sendJson(response, 500, { error: 'ERR internal error in local Upstash endpoint' })
    })
  })

  let listening: Awaited<ReturnType<typeof listen>>
  try {
    listening = await listen(server, '127.0.0.1', options.port ?? 0, '')
  } catch (error) {
    redis.destroy()
    throw error
  }

  let closing: Promise<void> | undefined
  async function closeOnce(): Promise<void> {
    await listening.close()
    if (redis.isOpen) await redis.close()
  }

  return {
    url: listening.url,
    port: listening.port,
    close(): Promise<void> {
      closing ??= closeOnce()
      return closing
    },
  }
}
