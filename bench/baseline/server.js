// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// The seed document's stack: Express 5 under Node's cluster module, one worker per core,
// sharing one listening socket (what PM2's cluster mode does), each with its own pg Pool and
// Redis connection. Prints one JSON ready line once every worker listens; SIGTERM stops all.
import cluster from 'node:cluster'
import { availableParallelism } from 'node:os'

if (cluster.isPrimary) {
  const count = Number(process.env.BASELINE_WORKERS ?? availableParallelism())
  let listening = 0
  let stopping = false

  for (let index = 0; index < count; index += 1) cluster.fork()

  cluster.on('listening', () => {
    listening += 1
    if (listening !== count) return
    const pids = Object.values(cluster.workers ?? {}).map((worker) => worker?.process.pid)
    process.stdout.write(
      `${JSON.stringify({ ready: true, workers: count, pids, node: process.version })}\n`,
    )
  })

  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      process.stderr.write(`worker ${worker.process.pid} died (${code ?? signal}); stopping\n`)
      stop()
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1)
  })

  function stop() {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 5_000).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} else {
  const { createApp, configFromEnv } = await import('./app.js')
  const config = configFromEnv(process.env)
  const { app, close } = createApp(config)
  const server = app.listen(config.PORT, '127.0.0.1')
  server.keepAliveTimeout = 65_000

  async function shutDown() {
    server.close()
    server.closeAllConnections()
    await close().catch(() => undefined)
    process.exit(0)
  }
  process.on('SIGTERM', shutDown)
  // The primary is gone (even by SIGKILL): nobody will ever stop this worker otherwise.
  process.on('disconnect', shutDown)
}
