// The bench's one table, and the JSON record of the run under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import type { LatencySummary, Recorder, RoundTrips } from './load.ts'
import { latencySummary, roundTrips } from './load.ts'
import type { assumptions, CoresNeeded, ModelRow } from './model.ts'

export type StackName = 'ours' | 'baseline'

export interface StackFigures {
  requests: number
  seconds: number
  requestsPerSecond: number
  latencyMs: LatencySummary
  errors: number
  statuses: Record<string, number>
  dbRoundTrips: RoundTrips
  cacheRoundTrips: RoundTrips
  xCache: Record<string, number>
  /** The first few refused or failed answers, to show why. */
  failures: string[]
  /** CPU seconds each process group used during the measured window. */
  cpuSeconds: Record<string, number>
  /** Share of the whole machine's CPU that was busy during the window, 0 to 1. */
  machineBusy: number
  /** CPU seconds the whole machine spent meanwhile: this stack, PostgreSQL, Redis, others. */
  machineCpuSeconds: number
  /** The 1-minute load average when the window closed (the machine is shared). */
  loadAverage: number
}

export interface ScenarioFigures {
  name: string
  description: string
  mode: 'closed' | 'open'
  settings: Record<string, number | string>
  stacks: Partial<Record<StackName, StackFigures>>
  /** Per step of the session mix, for each stack. */
  steps?: Record<string, Partial<Record<StackName, StackFigures>>>
  /** Why a scenario could not run (a route not there yet, say). */
  skipped?: string
}

export interface BundleFigures {
  rawBytes: number
  gzipBytes: number
  wranglerSummary: string | undefined
  limits: { freeCompressedBytes: number; paidCompressedBytes: number; startupMs: number }
  /** Spawn of workerd to its first answer: an upper bound on the global scope's start. */
  localStartupMs: number
}

export interface BenchReport {
  date: string
  machine: Record<string, string | number>
  versions: Record<string, string>
  settings: Record<string, number | string>
  seed: Record<string, number>
  bundle: BundleFigures
  parity: { checked: string[]; differences: string[] }
  /** CPU one sign-in costs each stack (PBKDF2 dominates), from sequential sign-ins. */
  signIn: Record<StackName, { cpuMs: Record<string, number>; latencyMs: number }>
  /** Reads the Worker answered through its response cache; the baseline caches the same. */
  cachedReads: string[]
  scenarios: ScenarioFigures[]
  model: { assumptions: typeof assumptions; rows: ModelRow[]; coresNeeded: CoresNeeded[] }
  notes: string[]
  /** Wall time of the whole `npm run bench`, build and seed included. */
  harnessSeconds: number
}

export interface MachineWindow {
  busy: number
  cpuSeconds: number
  loadAverage: number
}

export function figures(
  recorder: Recorder,
  seconds: number,
  cpuSeconds: Record<string, number>,
  machine: MachineWindow,
): StackFigures {
  const requests = recorder.responses
  return {
    requests,
    seconds: Math.round(seconds * 100) / 100,
    requestsPerSecond: Math.round((requests / seconds) * 10) / 10,
    latencyMs: latencySummary(recorder.latencies),
    errors: recorder.errors,
    statuses: recorder.statuses,
    dbRoundTrips: roundTrips(recorder.dbTrips),
    cacheRoundTrips: roundTrips(recorder.cacheTrips),
    xCache: recorder.xCache,
    failures: recorder.failures,
    cpuSeconds,
    machineBusy: Math.round(machine.busy * 1000) / 1000,
    machineCpuSeconds: Math.round(machine.cpuSeconds * 100) / 100,
    loadAverage: machine.loadAverage,
  }
}

const ratio = (ours: number | undefined, baseline: number | undefined) =>
  ours === undefined || baseline === undefined || baseline === 0
    ? '—'
    : `${(ours / baseline).toFixed(2)}×`

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1))
const trips = (value: RoundTrips) => (value.mean === undefined ? '—' : String(value.mean))

/**
 * CPU milliseconds per answer of the stack's own processes (workerd, or the Node cluster);
 * for ours, the local stand-ins for Neon and Upstash follow in parentheses.
 */
function cpuPerRequest(value: StackFigures): string {
  if (value.requests === 0) return '—'
  const per = (seconds: number | undefined) => ((seconds ?? 0) * 1000) / value.requests
  const own = per(value.cpuSeconds.workerd ?? value.cpuSeconds['node cluster'])
  const standIns = value.cpuSeconds['neon+upstash endpoints']
  if (Object.keys(value.cpuSeconds).length === 0) return '—'
  return standIns === undefined
    ? own.toFixed(1)
    : `${own.toFixed(1)} (+${per(standIns).toFixed(1)})`
}

/** Share of answers served from the response cache, from X-Cache; blank when none said. */
function hits(xCache: Record<string, number>): string {
  const total = Object.values(xCache).reduce((sum, count) => sum + count, 0)
  if (total === 0) return '—'
  return `${Math.round(((xCache.HIT ?? 0) / total) * 100)}%`
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, index) => cell.padEnd(widths[index] ?? 0))
    .join('  ')
    .trimEnd()
}

function lines(scenario: string, stack: string, value: StackFigures | undefined): string[] {
  if (value === undefined) return [scenario, stack, '—', '—', '—', '—', '—', '—', '—', '—', '—']
  return [
    scenario,
    stack,
    value.requestsPerSecond.toFixed(0),
    ms(value.latencyMs.p50),
    ms(value.latencyMs.p95),
    ms(value.latencyMs.p99),
    String(value.errors),
    trips(value.dbRoundTrips),
    trips(value.cacheRoundTrips),
    hits(value.xCache),
    cpuPerRequest(value),
  ]
}

/** One table: both stacks per scenario, then the ratio ours / baseline. */
export function table(report: BenchReport): string {
  const header = [
    'scenario',
    'stack',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'db RT/req',
    'cache RT/req',
    'cache hits',
    'CPU ms/req',
  ]
  const rows: string[][] = []
  const add = (name: string, entry: Partial<Record<StackName, StackFigures>>) => {
    const { ours, baseline } = entry
    rows.push(lines(name, 'ours', ours))
    rows.push(lines('', 'baseline', baseline))
    rows.push([
      '',
      'ours/baseline',
      ratio(ours?.requestsPerSecond, baseline?.requestsPerSecond),
      ratio(ours?.latencyMs.p50, baseline?.latencyMs.p50),
      ratio(ours?.latencyMs.p95, baseline?.latencyMs.p95),
      ratio(ours?.latencyMs.p99, baseline?.latencyMs.p99),
      '',
      '',
      '',
      '',
      '',
    ])
  }
  for (const scenario of report.scenarios) {
    if (scenario.skipped !== undefined) {
      rows.push([scenario.name, `skipped: ${scenario.skipped}`])
      continue
    }
    add(scenario.name, scenario.stacks)
    for (const [step, entry] of Object.entries(scenario.steps ?? {})) add(`  · ${step}`, entry)
  }
  const widths = header.map((title, index) =>
    Math.max(
      title.length,
      ...rows.map((cells) => (cells.length > 2 ? (cells[index] ?? '').length : 0)),
    ),
  )
  const out = [
    row(header, widths),
    row(
      widths.map((width) => '-'.repeat(width)),
      widths,
    ),
  ]
  for (const cells of rows) out.push(cells.length > 2 ? row(cells, widths) : cells.join('  '))
  return out.join('\n')
}

/** The bundle against the platform's limits. */
export function bundleLines(bundle: BundleFigures): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  const share = (bytes: number, limit: number) => `${((bytes / limit) * 100).toFixed(1)}%`
  return [
    `bundle: ${kib(bundle.rawBytes)} raw, ${kib(bundle.gzipBytes)} gzip` +
      (bundle.wranglerSummary ? ` (wrangler: ${bundle.wranglerSummary})` : ''),
    `  vs Workers limits (compressed): ` +
      `${share(bundle.gzipBytes, bundle.limits.freeCompressedBytes)} of 3 MB (Free), ` +
      `${share(bundle.gzipBytes, bundle.limits.paidCompressedBytes)} of 10 MB (Paid); ` +
      `startup limit ${bundle.limits.startupMs} ms, local workerd spawn to first answer ` +
      `${bundle.localStartupMs} ms`,
  ].join('\n')
}

/** Writes `bench/results/<date>.json` and returns its path. */
export function saveReport(report: BenchReport, directory = 'bench/results'): string {
  mkdirSync(directory, { recursive: true })
  const stamp = report.date.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')
  const file = join(directory, `${stamp}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  return file
}
