export const logLevels = ['debug', 'info', 'warn', 'error'] as const
type Level = (typeof logLevels)[number]

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const sinks: Record<Level, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.info(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
}

/**
 * One JSON line per event with the request id bound. Callers pass ids and counts, never
 * emails, tokens or bodies: logs leave the tenant's boundary.
 */
export function createLogger(bound: LogFields, minimum: Level = 'info'): Logger {
  const threshold = logLevels.indexOf(minimum)
  const write = (level: Level, message: string, fields?: LogFields) => {
    if (logLevels.indexOf(level) < threshold) return
    sinks[level](JSON.stringify({ level, message, ...bound, ...fields }))
  }
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  }
}

/**
 * Error details fit for a log line: name, message, cause chain and stack. Drizzle's query
 * errors put the bound parameters (emails, names) in their message, so only the SQL is kept.
 */
export function describeError(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) }
  const cause = error.cause === undefined ? undefined : describeError(error.cause)
  if ('query' in error && 'params' in error) {
    return { errorName: 'DrizzleQueryError', query: String(error.query), cause }
  }
  return { errorName: error.name, errorMessage: error.message, stack: error.stack, cause }
}
