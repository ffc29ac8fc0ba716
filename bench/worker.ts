// Our stack for the bench: the Worker bundle exactly as `wrangler deploy --dry-run` builds it,
// served by the `workerd` binary itself from a generated config, with no `wrangler dev` and no
// Miniflare in front (their development proxy caps throughput far below the runtime's).
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'

import { unstable_readConfig } from 'wrangler'

import { quietWranglerEnv } from '../scripts/local-config.ts'
import { type Started, startProcess, waitForHttp } from './processes.ts'

const run = promisify(execFile)

export interface Bundle {
  readonly directory: string
  readonly mainModule: string
  readonly rawBytes: number
  readonly gzipBytes: number
  /** What wrangler itself printed as the upload size, for comparison with our gzip figure. */
  readonly wranglerSummary: string | undefined
  readonly compatibilityDate: string
  readonly compatibilityFlags: string[]
  /** `[vars]` of wrangler.toml's top-level environment. */
  readonly vars: Record<string, string>
}

/** Builds the bundle with the same command `npm run build` uses, into `directory`. */
export async function buildBundle(directory: string): Promise<Bundle> {
  const { stdout, stderr } = await run(
    'npx',
    ['wrangler', 'deploy', '--dry-run', '--outdir', directory, '--env', ''],
    { env: { ...process.env, ...quietWranglerEnv }, maxBuffer: 16 * 1024 * 1024 },
  )
  const summary = `${stdout}\n${stderr}`.match(/Total Upload: [^\n]+/)?.[0]

  const config = unstable_readConfig({ config: 'wrangler.toml' })
  const mainModule = 'index.js'
  const code = readFileSync(join(directory, mainModule))
  const vars: Record<string, string> = {}
  for (const [name, value] of Object.entries(config.vars)) {
    if (typeof value === 'string') vars[name] = value
  }
  return {
    directory,
    mainModule,
    rawBytes: code.byteLength,
    // Cloudflare measures the compressed upload; level 9 is a fair stand-in for its gzip.
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    wranglerSummary: summary,
    compatibilityDate: config.compatibility_date ?? '2026-10-20',
    compatibilityFlags: config.compatibility_flags,
    vars,
  }
}

/** A capnp string literal; the bench only ever writes plain printable ASCII into one. */
function capnpString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value) || /["\\]/.test(value)) {
    throw new Error(`value cannot go into the workerd config as is: ${JSON.stringify(value)}`)
  }
  return `"${value}"`
}

// KV and R2 have no implementation inside bare workerd. The measured routes use neither (the
// cache and limiter are on Upstash, uploads are only presigned), so both bindings point at a
// service that refuses: any use would show up as errors in the results, not pass unnoticed.
const unavailableService = `export default {
  fetch() {
    return new Response('not available in the bench', { status: 503 })
  },
}
`

/** The workerd config: one socket on 127.0.0.1, outbound traffic to loopback only. */
export function workerdConfig(bundle: Bundle, port: number, vars: Record<string, string>): string {
  const textBindings = Object.entries(vars).map(
    ([name, value]) => `    (name = ${capnpString(name)}, text = ${capnpString(value)}),`,
  )
  const flags = bundle.compatibilityFlags.map(capnpString).join(', ')
  const main = capnpString(bundle.mainModule)
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "api", worker = .api),
    (name = "unavailable", worker = .unavailable),
    (name = "loopback", network = (allow = ["local"], deny = [])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "api")],
);

const api :Workerd.Worker = (
  modules = [(name = ${main}, esModule = embed ${main})],
  compatibilityDate = ${capnpString(bundle.compatibilityDate)},
  compatibilityFlags = [${flags}],
  bindings = [
${textBindings.join('\n')}
    (name = "CACHE_KV", kvNamespace = "unavailable"),
    (name = "DOCUMENTS", r2Bucket = "unavailable"),
  ],
  globalOutbound = "loopback",
);

const unavailable :Workerd.Worker = (
  modules = [(name = "unavailable.js", esModule = embed "unavailable.js")],
  compatibilityDate = ${capnpString(bundle.compatibilityDate)},
);
`
}

/** The workerd binary the project already installs (the one the vitest plugin also uses). */
export function workerdBinary(): string {
  const require = createRequire(import.meta.url)
  return join(require.resolve('workerd/package.json'), '..', 'bin', 'workerd')
}

export function workerdVersion(): Promise<string> {
  return run(workerdBinary(), ['--version']).then(({ stdout }) => stdout.trim())
}

/** One workerd process serving the bundle on `port`; `name` labels its config and log. */
export async function startWorkerd(
  bundle: Bundle,
  port: number,
  vars: Record<string, string>,
  name = 'workerd',
): Promise<Started> {
  writeFileSync(join(bundle.directory, 'unavailable.js'), unavailableService)
  const configFile = join(bundle.directory, `${name}.capnp`)
  writeFileSync(configFile, workerdConfig(bundle, port, vars))

  const started = startProcess(name, workerdBinary(), ['serve', configFile], {
    cwd: bundle.directory,
  })
  await waitForHttp(started, `http://127.0.0.1:${port}/health`, 30_000)
  return started
}
