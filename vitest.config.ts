// Tests run inside workerd through @cloudflare/vitest-plugin, with the Worker configured from
// wrangler.toml. test/global-setup.ts starts the local Neon and Upstash endpoints first; the
// URLs it provides become bindings here, so the production drivers run unchanged.
import { cloudflareTest } from '@cloudflare/vitest-plugin'
import type { TestProjectInlineConfiguration } from 'vitest/config'
import { defineConfig } from 'vitest/config'

import type { LocalStackContext } from './test/global-setup.ts'

// Wrangler and Miniflare otherwise send telemetry and fetch Request.cf data from Cloudflare.
const OFFLINE_DEFAULTS = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
}
for (const [name, value] of Object.entries(OFFLINE_DEFAULTS)) process.env[name] ??= value

/**
 * Bindings that point the Worker at the local stack. TEST_BACKENDS lists what is real, comma
 * separated: `pglite` or `postgres`, plus `redis` when the Upstash endpoint runs.
 */
function localStackBindings(stack: LocalStackContext): Record<string, string> {
  const backends = stack.redis ? [stack.database, 'redis'] : [stack.database]

  return {
    DATABASE_URL: stack.databaseUrl,
    NEON_FETCH_ENDPOINT: stack.neonFetchEndpoint,
    TEST_BACKENDS: backends.join(','),
    // Telemetry only adds headers, but there is nobody to tell locally.
    UPSTASH_DISABLE_TELEMETRY: '1',
    ...(stack.upstash === null
      ? {}
      : {
          UPSTASH_REDIS_REST_URL: stack.upstash.url,
          UPSTASH_REDIS_REST_TOKEN: stack.upstash.token,
        }),
  }
}

// Secrets the Worker's config requires; test-only values (a JWT key of 32+ characters, and
// the S3 settings Miniflare's local R2 answers to, as in wrangler.toml's local_dev).
const testSecrets: Record<string, string> = {
  JWT_SECRET: 'test-only-jwt-secret-0123456789abcdef0123456789',
  S3_ENDPOINT: 'http://127.0.0.1:8787/cdn-cgi/local/r2/s3',
  S3_BUCKET: 'currentmesh-documents',
  S3_ACCESS_KEY_ID: 'local-access-key',
  S3_SECRET_ACCESS_KEY: 'local-secret-key',
  // Request lines would drown test output; warnings and errors still print.
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
}

// Every suite shares one client IP ("unknown": no CF-Connecting-IP) and runs many requests per
// user, so the limits are generous here; test/rate-limit sets tight ones per test instead.
const testRateLimits: Record<string, string> = Object.fromEntries(
  ['LOGIN', 'SIGNUP', 'REFRESH', 'SIGNIN_LINKS', 'PORTAL_SESSIONS', 'INVITATIONS', 'API', 'UPLOADS']
    .map((policy) => [`RATE_LIMIT_${policy}`, '100000/1m']),
)

/** Addresses for "cache backend down" tests, from test/cache/unreachable-endpoints.setup.ts. */
function unreachableBindings(endpoints: { closedUrl: string; stalledUrl: string }) {
  return { TEST_CLOSED_URL: endpoints.closedUrl, TEST_STALLED_URL: endpoints.stalledUrl }
}

const workersProject: TestProjectInlineConfiguration = {
  plugins: [
    cloudflareTest(function workersPoolOptions({ inject }) {
      return {
        wrangler: { configPath: './wrangler.toml' },
        // Nothing here may reach Cloudflare's network.
        remoteBindings: false,
        miniflare: {
          bindings: {
            ...testSecrets,
            ...testRateLimits,
            ...unreachableBindings(inject('unreachableEndpoints')),
            ...localStackBindings(inject('localStack')),
          },
        },
      }
    }),
  ],
  test: {
    name: 'workers',
    include: ['test/**/*.test.ts'],
    // Reserved for Node-side tests (for example Workers started with unstable_startWorker).
    exclude: ['test/node/**'],
  },
}

// Node-side tests: Workers started with unstable_startWorker, so a test can reach what the
// workers pool cannot (Miniflare's local R2 S3 endpoint, a real browser).
const nodeProject: TestProjectInlineConfiguration = {
  test: {
    name: 'node',
    environment: 'node',
    include: ['test/node/**/*.test.ts'],
    // Starting a Worker takes seconds; a browser run a little more.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
}

export default defineConfig({
  test: {
    // Root level, so every project shares one stack and the same provided URLs.
    globalSetup: ['./test/global-setup.ts', './test/cache/unreachable-endpoints.setup.ts'],
    projects: [workersProject, nodeProject],
  },
})
