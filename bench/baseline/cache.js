// @ts-check
// BASELINE FOR THE BENCHMARK ONLY, not part of the product (see bench/README.md).
// Redis through ioredis: a fixed-window rate limiter and a versioned response cache, each
// call one round trip (a pipeline counts once), as the Worker's Upstash store does.
import { createHash, randomUUID } from 'node:crypto'

import { Redis } from 'ioredis'

import { timed } from './db.js'

/** @typedef {{ body: string, headers: Record<string, string> }} Cached */

/** @param {string} url @param {string} prefix */
export function createCache(url, prefix) {
  const redis = new Redis(url, { keyPrefix: prefix, enableAutoPipelining: false })
  redis.on('error', (error) => process.stderr.write(`redis error: ${error.message}\n`))

  return {
    /**
     * Fixed window: INCR and a first-time EXPIRE in one pipeline.
     * @param {string} key @param {number} quota @param {number} windowSeconds
     */
    async limit(key, quota, windowSeconds) {
      const window = Math.floor(Date.now() / 1000 / windowSeconds)
      const counter = `rl:${key}:${window}`
      const replies = await timed('cache', () =>
        redis.multi().incr(counter).expire(counter, windowSeconds, 'NX').exec(),
      )
      const used = Number(replies?.[0]?.[1] ?? 0)
      return { allowed: used <= quota, remaining: Math.max(0, quota - used) }
    },

    /**
     * The entry, the caller's proof and the versions of the scopes it depends on: one MGET.
     * @param {string} entryKey @param {string} proofKey @param {string[]} versionKeys
     */
    async lookup(entryKey, proofKey, versionKeys) {
      const [entry, proof, ...versions] = await timed('cache', () =>
        redis.mget(entryKey, proofKey, ...versionKeys),
      )
      const current = versions.map((value) => value ?? '0')
      /** @type {{ versions: string[], response: Cached } | undefined} */
      let stored
      try {
        stored = entry ? JSON.parse(entry) : undefined
      } catch {
        stored = undefined
      }
      const fresh = stored !== undefined && stored.versions.join() === current.join()
      return { hit: fresh ? stored?.response : undefined, proof, versions: current }
    },

    /**
     * @param {string} entryKey @param {string[]} versions @param {Cached} response
     * @param {number} ttlSeconds
     * @param {{ key: string, value: string, ttlSeconds: number }} [proof]
     */
    async fill(entryKey, versions, response, ttlSeconds, proof) {
      const entry = JSON.stringify({ versions, response })
      const pipeline = redis.pipeline().set(entryKey, entry, 'EX', ttlSeconds)
      if (proof) pipeline.set(proof.key, proof.value, 'EX', proof.ttlSeconds)
      await timed('cache', () => pipeline.exec())
    },

    /** A write makes every entry built on these scopes stale. @param {string[]} versionKeys */
    async bump(versionKeys, ttlSeconds = 24 * 60 * 60) {
      const token = randomUUID()
      const pipeline = redis.pipeline()
      for (const key of versionKeys) pipeline.set(key, token, 'EX', ttlSeconds)
      await timed('cache', () => pipeline.exec())
    },

    quit: () => redis.quit(),
  }
}

/** @param {string} text */
export const sha256Hex = (text) => createHash('sha256').update(text).digest('hex')
