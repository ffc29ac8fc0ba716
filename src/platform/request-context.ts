import type { Defer } from '../cache/store'
import { ConfigError, loadConfig } from '../env'
import { problemResponse } from './error-handler'
import { ApiError } from './errors'
import type { AppContext, AppMiddleware } from './hono'
import { createLogger, describeError, type Logger, logLevels } from './logger'
import { meterContext, RoundTripMeter } from './metrics'
import { createServices } from './services'

// A caller-supplied id is kept only if it cannot smuggle anything into logs.
const safeRequestId = /^[A-Za-z0-9._:-]{8,128}$/

/** Background work outlives the response through waitUntil; its failures are only logged. */
function deferFor(c: AppContext, log: Logger): Defer {
  return function defer(work) {
    const logged = work.catch((error: unknown) => {
      log.warn('deferred work failed', describeError(error))
    })
    try {
      c.executionCtx.waitUntil(logged)
    } catch {
      // No execution context (app.request in a unit test): the work simply runs unawaited.
    }
  }
}

/**
 * First middleware: gives the request its id, meter and services, runs the rest inside the
 * meter's async context, then writes the Server-Timing header and the one request log line.
 */
export const requestContext: AppMiddleware = async function requestContext(c, next) {
  const incoming = c.req.header('x-request-id')
  const requestId = incoming && safeRequestId.test(incoming) ? incoming : crypto.randomUUID()
  const meter = new RoundTripMeter()
  // Read before the config is parsed, so even a configuration error is logged at its level.
  const level = logLevels.find((name) => name === c.env.LOG_LEVEL) ?? 'info'
  const log = createLogger({ requestId }, level)
  c.set('requestId', requestId)
  c.set('log', log)
  c.set('meter', meter)

  await meterContext.run(meter, async () => {
    let services
    try {
      services = createServices(loadConfig(c.env), log, meter, deferFor(c, log))
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      log.error('configuration invalid', { variables: error.variables })
      c.res = problemResponse(c, new ApiError('misconfigured', { detail: error.message }))
      return
    }
    c.set('config', services.config)
    c.set('db', services.db)
    c.set('store', services.store)
    c.set('cache', services.cache)
    c.set('storage', services.storage)
    c.set('mailer', services.mailer)
    await next()
  })

  c.header('x-request-id', requestId)
  c.header('server-timing', meter.serverTiming())
  log.info('request', {
    method: c.req.method,
    route: c.req.routePath,
    status: c.res.status,
    durationMs: Math.round(performance.now() - meter.startedAt),
    db: meter.db,
    cache: { ...meter.cache, result: meter.cacheResult },
  })
}
