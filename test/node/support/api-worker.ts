// The real Worker under `wrangler dev`'s engine (unstable_startWorker), on 127.0.0.1 and a free
// port, wired to the suite's local stack. Unlike the workers pool, a client here reaches
// Miniflare's local R2 S3 endpoint at <origin>/cdn-cgi/local/r2/s3 over plain HTTP.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { unstable_readConfig, unstable_startWorker } from 'wrangler'
import { localWorkerVars, quietWranglerEnv } from '../../../scripts/local-config.ts'
import { type Config, loadConfig } from '../../../src/env.ts'

export const e2eJwtSecret = 'e2e-only-jwt-secret-0123456789abcdef0123456789'

export interface ApiWorker {
  /** e.g. http://127.0.0.1:41234 — also the host the S3 endpoint is signed for. */
  origin: string
  /** The configuration the Worker parses, for signing test tokens. */
  config: Config
  fetch(path: string, init?: RequestInit): Promise<Response>
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function tomlVars(): Record<string, unknown> {
  return { ...unstable_readConfig({ config: 'wrangler.toml' }).vars }
}

/** Starts one Worker; `vars` override the local defaults (e.g. a short URL lifetime). */
export async function startApiWorker(vars: Record<string, string> = {}): Promise<ApiWorker> {
  for (const [name, value] of Object.entries(quietWranglerEnv)) process.env[name] ??= value
  const stack = inject('localStack')
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const values = {
    ...localWorkerVars({
      origin,
      databaseUrl: stack.databaseUrl,
      neonFetchEndpoint: stack.neonFetchEndpoint,
      upstash: stack.upstash ?? undefined,
      jwtSecret: e2eJwtSecret,
      appEnv: 'test',
    }),
    LOG_LEVEL: 'warn',
    UPSTASH_DISABLE_TELEMETRY: '1',
    ...vars,
  }
  // A fresh folder per Worker: Miniflare's R2 and KV data never shared with another process.
  const persist = mkdtempSync(join(tmpdir(), 'currentmesh-e2e-'))
  const bindings = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, { type: 'plain_text', value }]),
  )

  const worker = await unstable_startWorker({
    config: 'wrangler.toml',
    bindings,
    dev: {
      server: { hostname: '127.0.0.1', port },
      inspector: false,
      persist,
      watch: false,
      logLevel: 'error',
    },
  }).catch((error: unknown) => {
    rmSync(persist, { recursive: true, force: true })
    throw error
  })
  const stop = async () => {
    try {
      await worker.dispose()
    } finally {
      rmSync(persist, { recursive: true, force: true })
    }
  }

  try {
    await worker.ready
    return {
      origin,
      // wrangler.toml's [vars] under the overrides, as the Worker sees them; bindings stubbed.
      config: loadConfig({ ...tomlVars(), ...values, CACHE_KV: {}, DOCUMENTS: {} }),
      fetch: (path, init) => fetch(new URL(path, origin), init),
      stop,
    }
  } catch (error) {
    // A Worker that started but cannot be used must not outlive the test file.
    await stop()
    throw error
  }
}
