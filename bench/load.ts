// The load: closed-loop scenarios through autocannon (a fixed number of connections, each
// sending its next request when the last one answered), and an open-model session mix where
// virtual users act on a schedule that does not wait for the server. Every run is bounded in
// time and only ever talks to 127.0.0.1.
import { Agent, request as httpRequest } from 'node:http'

import autocannon from 'autocannon'

export interface RequestSpec {
  method: 'GET' | 'POST'
  path: string
  token: string
  body?: string
}

/** What one stack answered during one scenario. */
export class Recorder {
  readonly latencies: number[] = []
  readonly statuses: Record<string, number> = {}
  readonly dbTrips: number[] = []
  readonly cacheTrips: number[] = []
  readonly xCache: Record<string, number> = {}
  readonly failures: string[] = []
  socketErrors = 0
  timeouts = 0

  status(status: number, body: string | undefined): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1
    if ((status < 200 || status >= 300) && this.failures.length < 5) {
      this.failures.push(`${status} ${(body ?? '').slice(0, 300)}`)
    }
  }

  headers(headers: Record<string, unknown>): void {
    const timing = headerText(headers['server-timing'])
    const db = /(?:^|,)\s*db;[^,]*desc="(\d+)"/.exec(timing)
    const cache = /(?:^|,)\s*cache;[^,]*desc="(\d+)"/.exec(timing)
    if (db?.[1] !== undefined) this.dbTrips.push(Number(db[1]))
    if (cache?.[1] !== undefined) this.cacheTrips.push(Number(cache[1]))
    const xCache = headerText(headers['x-cache'])
    if (xCache !== '') this.xCache[xCache] = (this.xCache[xCache] ?? 0) + 1
  }

  get responses(): number {
    return Object.values(this.statuses).reduce((sum, count) => sum + count, 0)
  }

  get errors(): number {
    const failed = Object.entries(this.statuses)
      .filter(([status]) => Number(status) < 200 || Number(status) >= 300)
      .reduce((sum, [, count]) => sum + count, 0)
    return failed + this.socketErrors + this.timeouts
  }
}

function headerText(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ')
  return typeof value === 'string' ? value : ''
}

export interface ClosedOptions {
  connections: number
  seconds: number
  warmupSeconds: number
  /** Called between the warm-up and the measured window. */
  onStart?: () => void
}

export interface ClosedRun {
  recorder: Recorder
  seconds: number
}

function specHeaders(spec: RequestSpec): Record<string, string> {
  const headers: Record<string, string> = {}
  if (spec.token !== '') headers.authorization = `Bearer ${spec.token}`
  if (spec.body !== undefined) headers['content-type'] = 'application/json'
  return headers
}

async function cannon(
  origin: string,
  next: () => RequestSpec,
  connections: number,
  seconds: number,
  recorder: Recorder | undefined,
): Promise<number> {
  let instance: autocannon.Instance | undefined
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: origin,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            setupRequest(request) {
              const spec = next()
              return {
                ...request,
                method: spec.method,
                path: spec.path,
                headers: specHeaders(spec),
                ...(spec.body === undefined ? {} : { body: spec.body }),
              }
            },
            onResponse(status, body, _context, headers) {
              recorder?.status(status, body)
              recorder?.headers(headers as Record<string, unknown>)
            },
          },
        ],
      },
      (error: unknown, result) => (error ? reject(error) : resolve(result)),
    )
  })
  if (recorder) {
    instance?.on('response', (_client, _status, _bytes, responseTime) => {
      recorder.latencies.push(responseTime)
    })
  }
  const result = await finished
  if (recorder) {
    recorder.socketErrors += result.errors - result.timeouts
    recorder.timeouts += result.timeouts
  }
  return result.duration
}

/** The connections spread over the stack's origins (one per server process), all at once. */
async function cannons(
  origins: readonly string[],
  next: () => RequestSpec,
  connections: number,
  seconds: number,
  recorder: Recorder | undefined,
): Promise<number> {
  const share = Math.max(1, Math.round(connections / origins.length))
  const durations = await Promise.all(
    origins.map((origin) => cannon(origin, next, share, seconds, recorder)),
  )
  return Math.max(...durations)
}

/** A warm-up that is thrown away, then the measured window. */
export async function runClosed(
  origins: readonly string[],
  next: () => RequestSpec,
  options: ClosedOptions,
): Promise<ClosedRun> {
  if (options.warmupSeconds > 0) {
    await cannons(origins, next, options.connections, options.warmupSeconds, undefined)
  }
  options.onStart?.()
  const recorder = new Recorder()
  const seconds = await cannons(origins, next, options.connections, options.seconds, recorder)
  return { recorder, seconds }
}

// ---- Open model: virtual users with think time ----

export interface Answer {
  status: number
  body: string
}

export interface SessionStep {
  name: string
  /** The request for this user now, or undefined to skip the step. */
  build(user: number): RequestSpec | undefined
  /** Reads what a later step needs (a token, a chosen request) from the answer. */
  read?(user: number, answer: Answer): void
}

export interface OpenOptions {
  users: number
  thinkSeconds: number
  seconds: number
  sockets: number
}

export interface OpenRun {
  recorder: Recorder
  perStep: Record<string, Recorder>
  seconds: number
  sessionsStarted: number
}

/** Think time uniform between half and one and a half times the mean. */
const think = (mean: number) => mean * (0.5 + Math.random())

function send(
  agent: Agent,
  origin: URL,
  spec: RequestSpec,
): Promise<Answer & { headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = specHeaders(spec)
    if (spec.body !== undefined) headers['content-length'] = String(Buffer.byteLength(spec.body))
    const request = httpRequest(
      {
        agent,
        host: origin.hostname,
        port: origin.port,
        method: spec.method,
        path: spec.path,
        headers,
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
          }),
        )
        response.on('error', reject)
      },
    )
    request.on('timeout', () => request.destroy(new Error('timeout')))
    request.on('error', reject)
    request.end(spec.body)
  })
}

/**
 * Every virtual user loops through `steps` with think time between them. At the start the
 * population is already in its steady state: each user begins at a random step and a random
 * moment within one think time, so the request rate is users / think time from the first
 * second. A user's next step is due one think time after the previous one was *due*, and its
 * latency counts from that moment, so a slow server cannot lower the offered rate unnoticed.
 */
export async function runOpen(
  origins: readonly string[],
  steps: readonly SessionStep[],
  options: OpenOptions,
): Promise<OpenRun> {
  // Each user talks to one server process, as a client keeps talking to one connection.
  const targets = origins.map((origin) => ({
    base: new URL(origin),
    agent: new Agent({
      keepAlive: true,
      maxSockets: Math.max(1, Math.round(options.sockets / origins.length)),
    }),
  }))
  const recorder = new Recorder()
  const perStep: Record<string, Recorder> = {}
  for (const step of steps) perStep[step.name] = new Recorder()

  const started = performance.now()
  const endsAt = started + options.seconds * 1000
  let sessionsStarted = 0
  const thinkMs = options.thinkSeconds * 1000

  async function act(user: number, index: number, dueAt: number): Promise<void> {
    const step = steps[index % steps.length]
    if (step === undefined || dueAt >= endsAt) return
    const wait = dueAt - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))

    const spec = step.build(user)
    if (spec !== undefined) {
      if (index % steps.length === 0) sessionsStarted += 1
      const stepRecorder = perStep[step.name] ?? recorder
      try {
        const server = targets[user % targets.length]
        if (server === undefined) throw new Error('no origin to send to')
        const answer = await send(server.agent, server.base, spec)
        const latency = performance.now() - dueAt
        for (const target of [recorder, stepRecorder]) {
          target.latencies.push(latency)
          target.status(answer.status, answer.body)
          target.headers(answer.headers)
        }
        step.read?.(user, answer)
      } catch (error) {
        const timedOut = error instanceof Error && error.message === 'timeout'
        for (const target of [recorder, stepRecorder]) {
          if (timedOut) target.timeouts += 1
          else target.socketErrors += 1
        }
      }
    }
    // Due one think time after this step was due; if the answer came later than that, the
    // step goes at once and its latency still counts from when it was due.
    await act(user, index + 1, dueAt + think(thinkMs))
  }

  const users: Promise<void>[] = []
  for (let user = 0; user < options.users; user += 1) {
    const firstStep = Math.floor(Math.random() * steps.length)
    users.push(act(user, firstStep, started + Math.random() * thinkMs))
  }
  await Promise.all(users)
  for (const target of targets) target.agent.destroy()
  return { recorder, perStep, seconds: (performance.now() - started) / 1000, sessionsStarted }
}

// ---- Summaries ----

export interface LatencySummary {
  p50: number
  p95: number
  p99: number
  mean: number
  max: number
}

export interface RoundTrips {
  /** Mean per response that reported it; undefined if none did. */
  mean: number | undefined
  min: number | undefined
  max: number | undefined
  responses: number
}

/** Nearest-rank percentiles over every recorded latency, in milliseconds. */
export function latencySummary(latencies: readonly number[]): LatencySummary {
  if (latencies.length === 0) return { p50: 0, p95: 0, p99: 0, mean: 0, max: 0 }
  const sorted = [...latencies].sort((a, b) => a - b)
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0
  const round = (value: number) => Math.round(value * 100) / 100
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    mean: round(mean),
    max: round(sorted.at(-1) ?? 0),
  }
}

export function roundTrips(values: readonly number[]): RoundTrips {
  if (values.length === 0) {
    return { mean: undefined, min: undefined, max: undefined, responses: 0 }
  }
  let sum = 0
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const value of values) {
    sum += value
    min = Math.min(min, value)
    max = Math.max(max, value)
  }
  return {
    mean: Math.round((sum / values.length) * 100) / 100,
    min,
    max,
    responses: values.length,
  }
}
