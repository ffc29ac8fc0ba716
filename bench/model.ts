// A back-of-envelope model of production latency from what a local run can measure: round
// trips per request (Server-Timing) and CPU per request. Everything a local run cannot show
// (edge RTT, Neon and Upstash network latency) enters as a stated assumption below.
import type { ScenarioFigures, StackFigures } from './report.ts'

/** Milliseconds; typical published figures, not measurements from this machine. */
export const assumptions = {
  userToEdge: 15,
  /** Extra distance between a far user and the one region the data lives in. */
  farFromRegion: 80,
  /** One Neon SQL-over-HTTP query from a Worker in the database's region. */
  neonInRegion: 5,
  /** One Upstash REST call from a Worker in the Redis region. */
  upstashInRegion: 3,
  /** A pooled pg query from a server in the same datacenter as PostgreSQL. */
  postgresInDatacenter: 0.5,
  redisInDatacenter: 0.3,
  /**
   * One Workers KV call from the location the Worker runs in (CACHE_BACKEND=kv): hot reads
   * are served there; writes are accepted there and spread within about a minute.
   */
  kvAtEdge: 5,
} as const

export interface ModelRow {
  scenario: string
  stack: 'ours' | 'baseline'
  dbRoundTrips: number
  cacheRoundTrips: number
  cpuMsPerRequest: number
  /** PostgreSQL's CPU per request for the bench database, measured here. */
  databaseCpuMsPerRequest: number
  nearUserMs: number
  farUserEdgeMs: number
  farUserPlacedMs: number
  /** Far user, Worker at the edge, cache and limiter on Workers KV instead of Upstash. */
  farUserKvMs: number
}

const round = (value: number) => Math.round(value * 10) / 10

/** CPU milliseconds per answer of one process group (see StackRuntime.processes). */
function perRequest(value: StackFigures, label: string): number {
  return value.requests === 0 ? 0 : ((value.cpuSeconds[label] ?? 0) * 1000) / value.requests
}

/** CPU per request of the stack's own processes, leaving out the local stand-in services. */
const cpuPerRequest = (stack: 'ours' | 'baseline', value: StackFigures) =>
  perRequest(value, stack === 'ours' ? 'workerd' : 'node cluster')

const database = 'postgres (bench database)'

/**
 * Four placements. Near: the user is close to the data's region. Far, at the edge: the
 * Worker runs next to a far user, every round trip crosses the distance. Far, placed: the
 * Worker runs next to the data (Smart Placement), the user's request crosses it once. Far,
 * KV: at the edge, with the cache and limiter on Workers KV, so only database round trips
 * cross. The baseline runs in the data's region, so a far user always pays the distance.
 */
export function model(scenarios: readonly ScenarioFigures[]): ModelRow[] {
  const a = assumptions
  const rows: ModelRow[] = []
  for (const scenario of scenarios) {
    for (const stack of ['ours', 'baseline'] as const) {
      const value = scenario.stacks[stack]
      if (value === undefined) continue
      const db = value.dbRoundTrips.mean ?? 0
      const cache = value.cacheRoundTrips.mean ?? 0
      const cpu = cpuPerRequest(stack, value)
      if (stack === 'ours') {
        const inRegion = db * a.neonInRegion + cache * a.upstashInRegion
        const databaseCrossing = db * (a.farFromRegion + a.neonInRegion)
        const crossing = databaseCrossing + cache * (a.farFromRegion + a.upstashInRegion)
        rows.push({
          scenario: scenario.name,
          stack,
          dbRoundTrips: db,
          cacheRoundTrips: cache,
          cpuMsPerRequest: round(cpu),
          databaseCpuMsPerRequest: round(perRequest(value, database)),
          nearUserMs: round(a.userToEdge + inRegion + cpu),
          farUserEdgeMs: round(a.userToEdge + crossing + cpu),
          farUserPlacedMs: round(a.userToEdge + a.farFromRegion + inRegion + cpu),
          farUserKvMs: round(a.userToEdge + databaseCrossing + cache * a.kvAtEdge + cpu),
        })
      } else {
        const inDatacenter = db * a.postgresInDatacenter + cache * a.redisInDatacenter
        const near = a.userToEdge + inDatacenter + cpu
        rows.push({
          scenario: scenario.name,
          stack,
          dbRoundTrips: db,
          cacheRoundTrips: cache,
          cpuMsPerRequest: round(cpu),
          databaseCpuMsPerRequest: round(perRequest(value, database)),
          nearUserMs: round(near),
          farUserEdgeMs: round(near + a.farFromRegion),
          farUserPlacedMs: round(near + a.farFromRegion),
          farUserKvMs: round(near + a.farFromRegion),
        })
      }
    }
  }
  return rows
}

export function modelTable(rows: readonly ModelRow[]): string {
  const header = [
    'scenario',
    'stack',
    'db RT',
    'cache RT',
    'CPU ms',
    'PG CPU ms',
    'near',
    'far, edge',
    'far, placed',
    'far, KV',
  ]
  const cells = rows.map((row) => [
    row.scenario,
    row.stack,
    String(row.dbRoundTrips),
    String(row.cacheRoundTrips),
    String(row.cpuMsPerRequest),
    String(row.databaseCpuMsPerRequest),
    `${row.nearUserMs} ms`,
    `${row.farUserEdgeMs} ms`,
    `${row.farUserPlacedMs} ms`,
    `${row.farUserKvMs} ms`,
  ])
  const widths = header.map((title, index) =>
    Math.max(title.length, ...cells.map((line) => (line[index] ?? '').length)),
  )
  const format = (line: readonly string[]) =>
    line
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd()
  return [
    format(header),
    format(widths.map((width) => '-'.repeat(width))),
    ...cells.map(format),
  ].join('\n')
}

export interface CoresNeeded {
  offeredRequestsPerSecond: number
  /** Cores each process group would need to keep up, from its CPU per answer here. */
  cores: Record<'ours' | 'baseline', Record<string, number>>
}

/**
 * For an open-model scenario: how many cores each part of each stack needs at the offered
 * rate, from the CPU per answer it used here. Derived, not measured: it says whether a
 * quiet machine of this size could keep up when the shared one could not.
 */
export function coresNeeded(scenario: ScenarioFigures): CoresNeeded | undefined {
  const offered = Number(scenario.settings.offeredRequestsPerSecond)
  if (scenario.mode !== 'open' || !Number.isFinite(offered)) return undefined
  const cores: CoresNeeded['cores'] = { ours: {}, baseline: {} }
  for (const stack of ['ours', 'baseline'] as const) {
    const value = scenario.stacks[stack]
    if (value === undefined) continue
    for (const label of Object.keys(value.cpuSeconds)) {
      if (label === 'load generator') continue
      cores[stack][label] = Math.round(((perRequest(value, label) * offered) / 1000) * 100) / 100
    }
  }
  return { offeredRequestsPerSecond: offered, cores }
}
