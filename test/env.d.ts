// What the tests' `env` holds: wrangler.toml's bindings plus the variables vitest.config.ts
// injects. Values are strings; src/env.ts is what parses them.
declare namespace Cloudflare {
  interface Env {
    CACHE_KV: KVNamespace
    DOCUMENTS: R2Bucket
    [variable: string]: unknown
  }
}
