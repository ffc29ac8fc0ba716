// `npm run dev`: the whole local stack on embedded defaults, then `wrangler dev` on :8787.
// The database and Redis stand-ins run in a child process of their own, so one can be stopped
// to watch /health/ready report it; this supervisor starts it again a few seconds later.
// Ctrl-C stops everything this script started.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { developmentJwtSecret, localWorkerVars, quietWranglerEnv } from './local-config.ts'

const port = Number(process.env.PORT ?? 8787)
const origin = `http://localhost:${port}`
const restartDelayMs = 3000
const varsFile = '.data/dev/worker.env'

interface StackReady {
  DATABASE_URL: string
  NEON_FETCH_ENDPOINT: string
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
  backends: { database: string; redis: boolean }
}

let stopping = false
let stack: ChildProcess | undefined
let wrangler: ChildProcess | undefined

function say(message: string) {
  process.stdout.write(`[dev] ${message}\n`)
}

/** Starts the stack child and resolves with its ready line. */
function startStack(): Promise<StackReady> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/local-stack/stack.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    })
    stack = child
    let ready = false
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (ready || !line.startsWith('{')) return
      ready = true
      resolve(JSON.parse(line) as StackReady)
    })
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`local stack exited before it was ready (${code ?? signal})`))
      else if (!stopping) {
        say(`local stack stopped (${code ?? signal}); starting it again in ${restartDelayMs / 1000} s`)
        setTimeout(() => void startStack().then(() => say('local stack is back')), restartDelayMs)
      }
    })
  })
}

function startWrangler(ready: StackReady) {
  const vars = localWorkerVars({
    origin,
    databaseUrl: ready.DATABASE_URL,
    neonFetchEndpoint: ready.NEON_FETCH_ENDPOINT,
    upstash: ready.UPSTASH_REDIS_REST_URL
      ? { url: ready.UPSTASH_REDIS_REST_URL, token: ready.UPSTASH_REDIS_REST_TOKEN ?? '' }
      : undefined,
    jwtSecret: developmentJwtSecret('.data/dev/jwt-secret'),
  })
  // Through a private file rather than argv, where any local user's `ps` would show secrets.
  mkdirSync('.data/dev', { recursive: true })
  const lines = Object.entries(vars).map(([name, value]) => `${name}=${JSON.stringify(value)}`)
  writeFileSync(varsFile, `${lines.join('\n')}\n`, { mode: 0o600 })
  // A developer's own .dev.vars (git-ignored) wins over the defaults, e.g. relaxed limits.
  const overrides = existsSync('.dev.vars') ? ['--env-file', '.dev.vars'] : []
  wrangler = spawn(
    'wrangler',
    ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', '.data/dev/wrangler',
      '--env-file', varsFile, ...overrides],
    { stdio: 'inherit', env: { ...process.env, ...quietWranglerEnv } },
  )
  wrangler.once('exit', (code) => {
    if (!stopping) void shutDown(code ?? 1)
  })
}

async function shutDown(exitCode = 0) {
  if (stopping) return
  stopping = true
  say('stopping')
  const children = [wrangler, stack].filter((child) => child && child.exitCode === null)
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          const force = setTimeout(() => child?.kill('SIGKILL'), 10_000)
          child?.once('exit', () => {
            clearTimeout(force)
            resolve()
          })
          child?.kill('SIGTERM')
        }),
    ),
  )
  process.exit(exitCode)
}

process.on('SIGINT', () => void shutDown(0))
process.on('SIGTERM', () => void shutDown(0))

const ready = await startStack().catch((error: unknown) => {
  say(String(error))
  process.exit(1)
})
say(
  `database: ${ready.backends.database} via ${ready.NEON_FETCH_ENDPOINT}; cache: ` +
    (ready.backends.redis ? `Upstash REST at ${ready.UPSTASH_REDIS_REST_URL}` : 'Workers KV (Miniflare)'),
)
say(`API on ${origin} — try ${origin}/health/ready and ${origin}/docs; demo data: npm run seed`)
startWrangler(ready)
