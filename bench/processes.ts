// Every process the bench starts is registered here and stopped by its own PID: on success,
// on error and on Ctrl-C. Nothing is ever stopped by name; other people's workerd and node
// processes on this machine are none of the bench's business.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface Started {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  /** Where stdout and stderr go when they are not read by the caller. */
  readonly logFile: string
}

const running = new Map<number, Started>()
const stopGraceMs = 5_000

let logDirectory = '/tmp'
export function setLogDirectory(directory: string): void {
  logDirectory = directory
}

export function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`)
}

/**
 * Starts a process and registers it. Its output goes to `<name>.log` in the log directory;
 * with `readStdout` the caller gets the lines instead (for ready lines).
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { readStdout?: boolean } = {},
): Started {
  const logFile = join(logDirectory, `${name}.log`)
  const log = createWriteStream(logFile)
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`${name} did not start (${command})`)

  if (!options.readStdout) child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const started: Started = { name, child, pid: child.pid, logFile }
  running.set(child.pid, started)
  child.once('exit', () => running.delete(started.pid))
  return started
}

/** The first stdout line that parses as a JSON object, or an error if the process exits. */
export function readyLine<T>(started: Started, timeoutMs: number): Promise<T> {
  const { child, name } = started
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in ${timeoutMs} ms`)),
      timeoutMs,
    )
    const lines = createInterface({ input: child.stdout ?? process.stdin })
    lines.on('line', function onLine(line) {
      if (!line.startsWith('{')) return
      clearTimeout(timer)
      lines.removeAllListeners('line')
      resolve(JSON.parse(line) as T)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(
        new Error(`${name} exited before it was ready (${code ?? signal}); see ${started.logFile}`),
      )
    })
  })
}

/** Polls `url` until it answers 200, a bounded number of times. */
export async function waitForHttp(started: Started, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) {
      throw new Error(`${started.name} exited (${started.child.exitCode}); see ${started.logFile}`)
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.status === 200) return
      last = `HTTP ${response.status}`
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${started.name} did not answer ${url} in ${timeoutMs} ms (${last})`)
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** SIGTERM, then SIGKILL after a grace period; always by the PID the bench started. */
export async function stopProcess(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return
  started.child.kill('SIGTERM')
  if (await waitForExit(started.child, stopGraceMs)) return
  started.child.kill('SIGKILL')
  await waitForExit(started.child, stopGraceMs)
}

/** Stops everything still running, newest first. */
export async function stopAll(): Promise<void> {
  const all = [...running.values()].reverse()
  for (const started of all) await stopProcess(started)
}

/** Last resort on a synchronous exit path: no waiting is possible there. */
export function killAllNow(): void {
  for (const started of running.values()) {
    try {
      process.kill(started.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

/** A port that was free a moment ago on 127.0.0.1, for configs that need a fixed address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))))
    })
  })
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which sits in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return ticks / 100
  } catch {
    return 0
  }
}

/** Direct children of a process (cluster workers), from /proc. */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    return text === '' ? [] : text.split(' ').map(Number)
  } catch {
    return []
  }
}

/** PostgreSQL backends serving one database: their process title names it. */
export function postgresBackends(database: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      const serves = title.startsWith('postgres: ') && title.includes(` ${database} `)
      if (serves) pids.push(Number(entry))
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids
}

/** Busy and total jiffies of the whole machine, for the share other work took meanwhile. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const values = line.trim().split(/\s+/).slice(1).map(Number)
  const total = values.reduce((sum, value) => sum + value, 0)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  return { busy: total - idle, total }
}
