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
} as const

export interface ModelRow {
  scenario: string
  stack: 'ours' | 'baseline'
  dbRoundTrips: number
  cacheRoundTrips: number
  cpuMsPerRequest: number
  nearUserMs: number
  farUserEdgeMs: number
  farUserPlacedMs: number
}

const round = (value: number) => Math.round(value * 10) / 10

/** CPU per request of the stack's own processes, leaving out the local stand-in services. */
function cpuPerRequest(stack: 'ours' | 'baseline', value: StackFigures): number {
  const own =
    stack === 'ours' ? (value.cpuSeconds.workerd ?? 0) : (value.cpuSeconds['node cluster'] ?? 0)
  return value.requests === 0 ? 0 : (own * 1000) / value.requests
}

/**
 * Three placements. Near: the user is close to the data's region. Far, at the edge: the
 * Worker runs next to a far user, every round trip crosses the distance. Far, placed: the
 * Worker runs next to the data (Smart Placement), the user's request crosses it once. The
 * baseline runs in the data's region in every case, so a far user always pays the distance.
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
        const crossing = (db + cache) * (a.farFromRegion + a.neonInRegion)
        rows.push({
          scenario: scenario.name,
          stack,
          dbRoundTrips: db,
          cacheRoundTrips: cache,
          cpuMsPerRequest: round(cpu),
          nearUserMs: round(a.userToEdge + inRegion + cpu),
          farUserEdgeMs: round(a.userToEdge + crossing + cpu),
          farUserPlacedMs: round(a.userToEdge + a.farFromRegion + inRegion + cpu),
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
          nearUserMs: round(near),
          farUserEdgeMs: round(near + a.farFromRegion),
          farUserPlacedMs: round(near + a.farFromRegion),
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
    'near',
    'far, edge',
    'far, placed',
  ]
  const cells = rows.map((row) => [
    row.scenario,
    row.stack,
    String(row.dbRoundTrips),
    String(row.cacheRoundTrips),
    String(row.cpuMsPerRequest),
    `${row.nearUserMs} ms`,
    `${row.farUserEdgeMs} ms`,
    `${row.farUserPlacedMs} ms`,
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
