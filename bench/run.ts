// `npm run bench`: both stacks side by side on this machine, in one run, against 127.0.0.1
// only. Builds the Worker, seeds a dedicated database, starts the Worker on bare workerd and
// the Express baseline on Node 24 in cluster mode, drives both with the same load, prints
// one table and saves it under bench/results/. Every process it starts is stopped by PID.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, totalmem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { createClient } from 'redis'

import { localWorkerVars } from '../scripts/local-config.ts'
import { assertLocalRedisUrl } from '../scripts/local-stack/upstash-endpoint.ts'
import { Recorder, runClosed, runOpen } from './load.ts'
import {
  childPids,
  cpuSeconds,
  freePort,
  killAllNow,
  machineTicks,
  postgresBackends,
  readyLine,
  say,
  setLogDirectory,
  type Started,
  startProcess,
  stopAll,
  waitForHttp,
} from './processes.ts'
import {
  type BenchReport,
  bundleLines,
  figures,
  type MachineWindow,
  type ScenarioFigures,
  type StackFigures,
  type StackName,
  saveReport,
  table,
} from './report.ts'
import { closedScenarios, sessionSteps, TokenBook } from './scenarios.ts'
import {
  type BenchOrganization,
  benchDatabase,
  benchDatabaseUrl,
  benchPassword,
  loadFixtures,
  recreateDatabase,
  seed,
} from './seed.ts'
import { newJwtSecret } from './tokens.ts'
import { buildBundle, startWorkerd, workerdVersion } from './worker.ts'
import { assumptions, coresNeeded, model, modelTable } from './model.ts'
import { checkParity, probeCachedReads } from './parity.ts'

const run = promisify(execFile)

function setting(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

const settings = {
  durationSeconds: setting('BENCH_DURATION_SECONDS', 12),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 3),
  connections: setting('BENCH_CONNECTIONS', 32),
  users: setting('BENCH_USERS', 10_000),
  thinkSeconds: setting('BENCH_THINK_SECONDS', 60),
  // Enough that a slow answer does not hold the offered rate back, still far below the few
  // hundred connections at which one workerd process starts to starve them.
  sessionSockets: setting('BENCH_SESSION_SOCKETS', 256),
  organizations: setting('BENCH_ORGANIZATIONS', 200),
  usersPerOrganization: setting('BENCH_USERS_PER_ORGANIZATION', 50),
  clientsPerOrganization: setting('BENCH_CLIENTS_PER_ORGANIZATION', 10),
  requestsPerOrganization: setting('BENCH_REQUESTS_PER_ORGANIZATION', 25),
  itemsPerRequest: setting('BENCH_ITEMS_PER_REQUEST', 10),
  baselineWorkers: setting('BENCH_BASELINE_WORKERS', availableParallelism()),
  // As many workerd processes as the baseline has cluster workers: the same cores for both.
  workerdProcesses: setting('BENCH_WORKERD_PROCESSES', availableParallelism()),
  baselinePoolSize: setting('BENCH_BASELINE_POOL', 10),
}
const postgresUrl =
  process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/14'
const onlyScenarios = (process.env.BENCH_SCENARIOS ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean)

// Limits high enough never to refuse bench traffic: every request comes from one address and
// a few users send hundreds per second. Production keeps the defaults in src/env.ts.
const unlimited = '1000000/1m'
const rateLimitVars = Object.fromEntries(
  [
    'LOGIN',
    'SIGNUP',
    'REFRESH',
    'SIGNIN_LINKS',
    'PORTAL_SESSIONS',
    'INVITATIONS',
    'API',
    'UPLOADS',
  ].map((policy) => [`RATE_LIMIT_${policy}`, unlimited]),
)

async function flushBenchRedis(url: string): Promise<void> {
  assertLocalRedisUrl(url)
  const index = Number(new URL(url).pathname.slice(1) || '0')
  // Database 0 is where everything else on a machine lives; the bench never empties it.
  if (index === 0) throw new Error('BENCH_REDIS_URL must select a dedicated database, e.g. /14')
  const client = createClient({ url, socket: { reconnectStrategy: false } })
  await client.connect()
  try {
    await client.flushDb()
  } finally {
    await client.close()
  }
}

interface StackRuntime {
  name: StackName
  /** One per server process; the load spreads over them. */
  origins: string[]
  /** Process groups whose CPU time is reported, by label. */
  processes: () => Record<string, number[]>
}

/** CPU seconds so far of every process of each group, by PID. */
type CpuSnapshot = Record<string, Map<number, number>>

function cpuOf(stack: StackRuntime): CpuSnapshot {
  // The load generator is this process; its CPU competes for the same two cores.
  const groups: Record<string, number[]> = { 'load generator': [process.pid], ...stack.processes() }
  // Only one stack is measured at a time, so the bench database's work is that stack's.
  groups['postgres (bench database)'] = postgresBackends(benchDatabase)
  const snapshot: CpuSnapshot = {}
  for (const [label, pids] of Object.entries(groups)) {
    snapshot[label] = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]))
  }
  return snapshot
}

/**
 * CPU used between two snapshots, PID by PID: pool connections come and go (a backend that
 * started meanwhile counts from zero; one that ended was idle, or the pool would keep it).
 */
function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {}
  for (const [label, processes] of Object.entries(after)) {
    let total = 0
    for (const [pid, seconds] of processes) total += seconds - (before[label]?.get(pid) ?? 0)
    used[label] = total
  }
  return used
}

/** Wraps a measured window with CPU accounting for the stack's processes and the machine. */
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])

async function measured<T extends { recorder: Recorder; seconds: number }>(
  stack: StackRuntime,
  work: (onStart: () => void) => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number>; machine: MachineWindow }> {
  let cpuBefore: CpuSnapshot = {}
  let ticksBefore = machineTicks()
  const result = await work(() => {
    cpuBefore = cpuOf(stack)
    ticksBefore = machineTicks()
  })
  const used = cpuBetween(cpuBefore, cpuOf(stack))
  const ticksAfter = machineTicks()
  const cpu: Record<string, number> = {}
  for (const [label, seconds] of Object.entries(used)) cpu[label] = Math.round(seconds * 100) / 100
  const busyTicks = ticksAfter.busy - ticksBefore.busy
  const busy = busyTicks / Math.max(1, ticksAfter.total - ticksBefore.total)
  // /proc/stat counts in USER_HZ, 100 per second on Linux.
  return { result, cpu, machine: { busy, cpuSeconds: busyTicks / 100, loadAverage: loadAverage() } }
}

/** CPU per sign-in on each stack: sequential sign-ins, nothing else in flight. */
async function signInCost(
  stack: StackRuntime,
  organizations: readonly BenchOrganization[],
  count: number,
): Promise<{ cpuMs: Record<string, number>; latencyMs: number }> {
  const before = cpuOf(stack)
  const started = performance.now()
  for (let index = 0; index < count; index += 1) {
    const organization = organizations[index % organizations.length]
    const user = organization?.users[index % organization.users.length]
    if (organization === undefined || user === undefined) continue
    const response = await fetch(`${stack.origins[0] ?? ''}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        organization: organization.slug,
        email: user.email,
        password: benchPassword,
      }),
      signal: AbortSignal.timeout(10_000),
    })
    await response.arrayBuffer()
    if (response.status !== 200)
      throw new Error(`sign-in on ${stack.name} answered ${response.status}`)
  }
  const latencyMs = Math.round(((performance.now() - started) / count) * 10) / 10
  const cpuMs: Record<string, number> = {}
  for (const [label, seconds] of Object.entries(cpuBetween(before, cpuOf(stack)))) {
    cpuMs[label] = Math.round(((seconds * 1000) / count) * 10) / 10
  }
  return { cpuMs, latencyMs }
}

async function ensureBaselineInstalled(): Promise<void> {
  if (existsSync('bench/baseline/node_modules/.bin/node')) return
  say('installing the baseline (npm ci --prefix bench/baseline)')
  await run('npm', ['ci', '--prefix', 'bench/baseline', '--no-audit', '--no-fund'], {
    maxBuffer: 16 * 1024 * 1024,
  })
}

async function startBaseline(env: Record<string, string>, port: number): Promise<Started> {
  const started = startProcess(
    'baseline',
    'bench/baseline/node_modules/.bin/node',
    ['bench/baseline/server.js'],
    { readStdout: true, env: { ...process.env, ...env, PORT: String(port) } },
  )
  await readyLine(started, 30_000)
  await waitForHttp(started, `http://127.0.0.1:${port}/health`, 10_000)
  return started
}

function machine(): Record<string, string | number> {
  const memory = readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1]
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((Number(memory ?? totalmem() / 1024) / 1024 / 1024) * 10) / 10,
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    shared: 'yes: other engineers run test suites on the same 2 cores during the run',
  }
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const work = mkdtempSync(join(tmpdir(), 'currentmesh-bench-'))
  setLogDirectory(work)
  const notes: string[] = [
    'Ours: the dry-run bundle on bare workerd, one process per core with the load spread ' +
      'over them, reaching PostgreSQL through the local Neon SQL-over-HTTP endpoint and ' +
      'Redis through the local Upstash REST endpoint (one Node process, scripts/local-stack); ' +
      'in production those are remote services.',
    'Rate limits are raised to 1000000/1m through Worker vars (RATE_LIMIT_*) and the ' +
      "baseline's RATE_LIMIT_QUOTA: all load comes from one address and a few users; the " +
      'limiter still runs, one Redis round trip per request on both sides.',
    'LOG_LEVEL=warn on the Worker: the baseline writes no request log either.',
    'KV and R2 bindings point at a refusing stub under bare workerd; no measured route uses them.',
    'Closed-loop scenarios use access tokens minted with the run secret and the claims a ' +
      'sign-in gives; the session mix signs in through POST /v1/auth/login.',
  ]
  say(`logs and build in ${work}`)

  say('building the Worker (wrangler deploy --dry-run)')
  const bundle = await buildBundle(join(work, 'dist'))

  say('database and Redis: fresh currentmesh_bench, FLUSHDB on the bench index only')
  await recreateDatabase(postgresUrl)
  await flushBenchRedis(redisUrl)
  const databaseUrl = benchDatabaseUrl(postgresUrl)
  const stack = startProcess('local-stack', process.execPath, ['scripts/local-stack/stack.ts'], {
    readStdout: true,
    env: {
      ...process.env,
      LOCAL_PG_URL: databaseUrl,
      LOCAL_REDIS_URL: redisUrl,
      NEON_PORT: '0',
      UPSTASH_PORT: '0',
    },
  })
  const endpoints = await readyLine<{
    DATABASE_URL: string
    NEON_FETCH_ENDPOINT: string
    UPSTASH_REDIS_REST_URL: string
    UPSTASH_REDIS_REST_TOKEN: string
  }>(stack, 120_000)

  say('seeding')
  const counts = await seed(databaseUrl, settings)
  const organizations = await loadFixtures(databaseUrl)
  say(
    `seeded ${counts.organizations} organizations, ${counts.users} users, ${counts.requests} ` +
      `requests, ${counts.items} items, ${counts.comments} comments in ${counts.seconds} s`,
  )

  const jwtSecret = newJwtSecret()
  const jwtIssuer = bundle.vars.JWT_ISSUER ?? 'https://api.currentmesh.local'
  const workerPorts: number[] = []
  for (let index = 0; index < settings.workerdProcesses; index += 1)
    workerPorts.push(await freePort())
  const origins = workerPorts.map((port) => `http://127.0.0.1:${port}`)
  const origin = origins[0] ?? ''
  const workerVars: Record<string, string> = {
    ...bundle.vars,
    ...localWorkerVars({
      origin,
      databaseUrl: endpoints.DATABASE_URL,
      neonFetchEndpoint: endpoints.NEON_FETCH_ENDPOINT,
      upstash: { url: endpoints.UPSTASH_REDIS_REST_URL, token: endpoints.UPSTASH_REDIS_REST_TOKEN },
      jwtSecret,
    }),
    ...rateLimitVars,
    // One JSON line per request on workerd's stdout would be CPU the baseline does not spend.
    LOG_LEVEL: 'warn',
    UPSTASH_DISABLE_TELEMETRY: '1',
  }
  say(`starting the Worker on ${settings.workerdProcesses} workerd processes`)
  const spawnedAt = performance.now()
  const workerds = await Promise.all(
    workerPorts.map((port, index) =>
      startWorkerd(bundle, port, workerVars, `workerd-${index + 1}`),
    ),
  )
  const localStartupMs = Math.round(performance.now() - spawnedAt)

  const tokens = new TokenBook({ secret: jwtSecret, issuer: jwtIssuer })
  const cachedReads = await probeCachedReads(origin, organizations, tokens)
  say(
    `the Worker caches: ${cachedReads.join(', ') || 'no reads'}; the baseline will cache the same`,
  )

  await ensureBaselineInstalled()
  const baselinePort = await freePort()
  say(`starting the baseline (Express 5, Node 24, ${settings.baselineWorkers} cluster workers)`)
  const baseline = await startBaseline(
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: 'baseline:',
      PG_POOL_MAX: String(settings.baselinePoolSize),
      BASELINE_WORKERS: String(settings.baselineWorkers),
      JWT_SECRET: jwtSecret,
      JWT_ISSUER: jwtIssuer,
      BASELINE_CACHE_READS: cachedReads.join(','),
      RATE_LIMIT_QUOTA: '1000000',
      RATE_LIMIT_WINDOW_SECONDS: '60',
      S3_ENDPOINT: workerVars.S3_ENDPOINT ?? '',
      S3_BUCKET: workerVars.S3_BUCKET ?? '',
      S3_ACCESS_KEY_ID: workerVars.S3_ACCESS_KEY_ID ?? '',
      S3_SECRET_ACCESS_KEY: workerVars.S3_SECRET_ACCESS_KEY ?? '',
    },
    baselinePort,
  )

  const ours: StackRuntime = {
    name: 'ours',
    origins,
    processes: () => ({
      workerd: workerds.map((started) => started.pid),
      'neon+upstash endpoints': [stack.pid],
    }),
  }
  const theBaseline: StackRuntime = {
    name: 'baseline',
    origins: [`http://127.0.0.1:${baselinePort}`],
    processes: () => ({ 'node cluster': [baseline.pid, ...childPids(baseline.pid)] }),
  }
  const stacks = [ours, theBaseline]

  const scenarios = await closedScenarios(organizations, tokens)
  const session = await sessionSteps(organizations, settings.users, tokens)

  say('checking that both stacks answer with the same JSON')
  const parity = await checkParity(
    origin,
    `http://127.0.0.1:${baselinePort}`,
    organizations,
    tokens,
  )
  for (const difference of parity.differences) say(`parity: ${difference}`)
  // Refused on one side and answered on the other: the figures would compare nothing.
  if (parity.differences.some((difference) => / status \d+ vs \d+$/.test(difference))) {
    throw new Error('the stacks answer the same requests with different statuses (see above)')
  }
  if (parity.differences.length > 0) {
    notes.push(
      `Parity: ${parity.differences.length} differences between the stacks' answers (see parity).`,
    )
  }

  say('measuring the CPU of one sign-in on each stack')
  const signIn = {
    ours: await signInCost(ours, organizations, 20),
    baseline: await signInCost(theBaseline, organizations, 20),
  }

  const wanted = (name: string) =>
    onlyScenarios.length === 0 || onlyScenarios.some((only) => name.startsWith(only))
  const results: ScenarioFigures[] = []

  for (const [index, scenario] of scenarios.entries()) {
    if (!wanted(scenario.name)) continue
    const entry: ScenarioFigures = {
      name: scenario.name,
      description: scenario.description,
      mode: 'closed',
      settings: {
        connections: settings.connections,
        seconds: settings.durationSeconds,
        warmupSeconds: settings.warmupSeconds,
      },
      stacks: {},
    }
    // Alternate who goes first, so drift on the shared machine does not favour one side.
    const order = index % 2 === 0 ? stacks : [...stacks].reverse()
    for (const target of order) {
      say(`${scenario.name}: ${target.name}`)
      const { result, cpu, machine } = await measured(target, (onStart) =>
        runClosed(target.origins, scenario.requests(target.name), {
          connections: settings.connections,
          seconds: settings.durationSeconds,
          warmupSeconds: settings.warmupSeconds,
          onStart,
        }),
      )
      entry.stacks[target.name] = figures(result.recorder, result.seconds, cpu, machine)
    }
    results.push(entry)
  }

  const sessionName = `session mix (${settings.users.toLocaleString('en')} users)`
  if (wanted('session')) {
    const entry: ScenarioFigures = {
      name: sessionName,
      description:
        `${settings.users} virtual users, each signing in, listing requests, opening one, ` +
        `commenting and asking for an upload URL, with ${settings.thinkSeconds} s mean think ` +
        'time: a fixed offered rate of users / think time requests per second, not open ' +
        'connections.',
      mode: 'open',
      settings: {
        users: settings.users,
        thinkSeconds: settings.thinkSeconds,
        offeredRequestsPerSecond: Math.round(settings.users / settings.thinkSeconds),
        seconds: settings.durationSeconds,
        sockets: settings.sessionSockets,
      },
      stacks: {},
      steps: {},
    }
    const order = scenarios.length % 2 === 0 ? stacks : [...stacks].reverse()
    for (const target of order) {
      say(`${sessionName}: ${target.name}`)
      session.reset()
      const { result, cpu, machine } = await measured(target, (onStart) => {
        onStart()
        return runOpen(target.origins, session.steps, {
          users: settings.users,
          thinkSeconds: settings.thinkSeconds,
          seconds: settings.durationSeconds,
          sockets: settings.sessionSockets,
        })
      })
      entry.stacks[target.name] = figures(result.recorder, result.seconds, cpu, machine)
      for (const [step, recorder] of Object.entries(result.perStep)) {
        const steps = entry.steps ?? {}
        steps[step] ??= {}
        const row: Partial<Record<StackName, StackFigures>> = steps[step]
        row[target.name] = figures(recorder, result.seconds, {}, machine)
        entry.steps = steps
      }
    }
    results.push(entry)
  }

  const report: BenchReport = {
    date: startedAt.toISOString(),
    machine: machine(),
    versions: {
      node: process.version,
      workerd: await workerdVersion(),
      baselineNode: (
        await run('bench/baseline/node_modules/.bin/node', ['--version'])
      ).stdout.trim(),
      // The bundle is built from the working tree, which others may be changing meanwhile.
      commit: (await run('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim(),
      uncommittedSourceFiles: String(
        (await run('git', ['status', '--porcelain', '--', 'src'])).stdout
          .split('\n')
          .filter(Boolean).length,
      ),
    },
    settings: { ...settings, postgres: 'PostgreSQL on 127.0.0.1:5432', redis: redisUrl },
    seed: { ...counts },
    bundle: {
      rawBytes: bundle.rawBytes,
      gzipBytes: bundle.gzipBytes,
      wranglerSummary: bundle.wranglerSummary,
      limits: {
        freeCompressedBytes: 3 * 1024 * 1024,
        paidCompressedBytes: 10 * 1024 * 1024,
        startupMs: 1000,
      },
      localStartupMs,
    },
    parity,
    signIn,
    cachedReads,
    scenarios: results,
    model: {
      assumptions,
      rows: model(results),
      coresNeeded: results.flatMap((scenario) => coresNeeded(scenario) ?? []),
    },
    notes,
    harnessSeconds: 0,
  }

  report.harnessSeconds = Math.round((Date.now() - startedAt.getTime()) / 1000)
  const file = saveReport(report)
  process.stdout.write(`\n${table(report)}\n\n${bundleLines(report.bundle)}\n`)
  process.stdout.write(
    `\nproduction model (assumptions in bench/model.ts; CPU measured here):\n` +
      `${modelTable(report.model.rows)}\n`,
  )
  for (const need of report.model.coresNeeded) {
    process.stdout.write(
      `cores needed at the offered ${need.offeredRequestsPerSecond} req/s (from CPU per answer ` +
        `here): ${JSON.stringify(need.cores)}\n`,
    )
  }
  process.stdout.write(`\nsign-in CPU per request: ${JSON.stringify(report.signIn)}\n`)
  process.stdout.write(`machine: ${JSON.stringify(report.machine)}\n`)
  process.stdout.write(`whole run ${report.harnessSeconds} s; saved ${file}\n`)
  rmSync(work, { recursive: true, force: true })
}

let stopping = false
async function stopAndExit(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  await stopAll()
  process.exit(code)
}

process.on('SIGINT', () => void stopAndExit(130))
process.on('SIGTERM', () => void stopAndExit(143))
process.on('exit', killAllNow)

main().then(
  () => stopAndExit(0),
  (error: unknown) => {
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    )
    void stopAndExit(1)
  },
)
