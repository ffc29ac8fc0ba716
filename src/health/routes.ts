import { createRoute, z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { createRouter } from '../platform/hono'
import { describeError } from '../platform/logger'

const dependencyNames = ['database', 'cache', 'storage'] as const
type DependencyName = (typeof dependencyNames)[number]

const DependencyCheck = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number(),
  backend: z.string().optional(),
})

const Readiness = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    failing: z.array(z.enum(dependencyNames)),
    dependencies: z.object({
      database: DependencyCheck,
      cache: DependencyCheck,
      storage: DependencyCheck,
    }),
  })
  .openapi('Readiness')

const liveness = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Health'],
  summary: 'Liveness: the Worker runs (no I/O)',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
})

const readiness = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['Health'],
  summary: 'Readiness: one database round trip, one cache call, one storage call',
  responses: {
    200: {
      description: 'Every dependency answers',
      content: { 'application/json': { schema: Readiness } },
    },
    503: {
      description: 'A dependency is down; `failing` names it',
      content: { 'application/json': { schema: Readiness } },
    },
  },
})

// A readiness probe must answer even when a dependency hangs.
const checkTimeoutMs = 2000

async function check(work: () => Promise<unknown>) {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), checkTimeoutMs)
  })
  try {
    await Promise.race([work(), timeout])
    return { status: 'up' as const, latencyMs: Math.round(performance.now() - started) }
  } catch (error) {
    return { status: 'down' as const, latencyMs: Math.round(performance.now() - started), error }
  } finally {
    clearTimeout(timer)
  }
}

export const healthRoutes = createRouter()
  .openapi(liveness, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(readiness, async (c) => {
    const { db, store, storage, log } = c.var
    const [database, cache, bucket] = await Promise.all([
      check(() => db.execute(sql`select 1`)),
      check(() => store.ping()),
      check(() => storage.ping()),
    ])
    const results: Record<DependencyName, Awaited<ReturnType<typeof check>>> = {
      database,
      cache,
      storage: bucket,
    }

    const failing = dependencyNames.filter((name) => results[name].status === 'down')
    for (const name of failing) {
      log.warn('dependency down', { dependency: name, ...describeError(results[name].error) })
    }

    const view = (name: DependencyName) => ({
      status: results[name].status,
      latencyMs: results[name].latencyMs,
      ...(name === 'cache' ? { backend: store.backend } : {}),
    })
    const body = {
      status: failing.length === 0 ? ('ready' as const) : ('unavailable' as const),
      failing,
      dependencies: { database: view('database'), cache: view('cache'), storage: view('storage') },
    }
    return failing.length === 0 ? c.json(body, 200) : c.json(body, 503)
  })
