// Runs in Node before the Worker tests: two local addresses for "the cache backend is down"
// tests. One is a port nothing listens on (connection refused at once); the other accepts
// connections and never answers, so only the client's own timeout ends the request.
import { createServer, type Socket } from 'node:net'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    unreachableEndpoints: { closedUrl: string; stalledUrl: string }
  }
}

// A stalled connection is dropped after this long, so nothing outlives a slow test run.
const stallLimitMs = 30_000

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') reject(new Error('no port'))
      else resolve(address.port)
    })
  })
}

const close = (server: ReturnType<typeof createServer>) =>
  new Promise<void>((resolve) => server.close(() => resolve()))

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Bind and release a port: for the rest of the run nothing listens there.
  const probe = createServer()
  const closedPort = await listen(probe)
  await close(probe)

  const sockets = new Set<Socket>()
  const stalled = createServer(function holdOpen(socket) {
    sockets.add(socket)
    socket.setTimeout(stallLimitMs, () => socket.destroy())
    socket.on('close', () => sockets.delete(socket))
    // Reads the request and never writes a byte back.
    socket.resume()
  })
  const stalledPort = await listen(stalled)

  project.provide('unreachableEndpoints', {
    closedUrl: `http://127.0.0.1:${closedPort}`,
    stalledUrl: `http://127.0.0.1:${stalledPort}`,
  })

  return async function teardown() {
    for (const socket of sockets) socket.destroy()
    await close(stalled)
  }
}
