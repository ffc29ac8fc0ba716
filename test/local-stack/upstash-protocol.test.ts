// Fidelity of the local Upstash REST endpoint: @upstash/redis from its /cloudflare entry runs
// inside workerd against it as it would against Upstash, with auto-pipelining on (the
// client's default, which sends most commands to /pipeline) and off (single commands to /).
import { Redis, errors } from '@upstash/redis/cloudflare'
import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

function optionalBinding(name: string): string | undefined {
  const value: unknown = Reflect.get(env, name)
  return typeof value === 'string' && value !== '' ? value : undefined
}

const restUrl = optionalBinding('UPSTASH_REDIS_REST_URL')
const restToken = optionalBinding('UPSTASH_REDIS_REST_TOKEN') ?? ''
const SKIP_REASON =
  'skipped: TEST_REDIS_URL is not set, so no Upstash endpoint runs ' +
  '(e.g. TEST_REDIS_URL=redis://127.0.0.1:6379/15)'

function client(enableAutoPipelining: boolean, token = restToken): Redis {
  // retry: false, or a refused request would be retried for about 4 s before failing.
  return new Redis(
    { url: restUrl, token, retry: false, enableAutoPipelining, enableTelemetry: false },
    { UPSTASH_DISABLE_TELEMETRY: '1' },
  )
}

/** Keys are unique per run so a shared CI Redis never mixes runs; each test deletes its own. */
const usedKeys: string[] = []
const runPrefix = `fidelity:${crypto.randomUUID()}`
function key(label: string): string {
  const name = `${runPrefix}:${label}:${usedKeys.length}`
  usedKeys.push(name)
  return name
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

async function rest(path: string, body: unknown, token = restToken): Promise<[number, unknown]> {
  const response = await fetch(`${restUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'upstash-encoding': 'base64',
    },
    body: JSON.stringify(body),
  })
  return [response.status, await response.json()]
}

describe.skipIf(restUrl === undefined)(
  `upstash REST endpoint${restUrl === undefined ? ` (${SKIP_REASON})` : ''}`,
  () => {
    afterEach(async function deleteUsedKeys() {
      const keys = usedKeys.splice(0)
      if (keys.length > 0) await client(false).del(...keys)
    })

    it('base64-encodes every string reply, binary bytes and status replies included', async () => {
      const binary = key('binary')

      expect(await rest('/', ['eval', 'return string.char(255, 0, 128)', 0])).toEqual([
        200,
        { result: '/wCA' },
      ])
      expect(await rest('/', ['set', binary, 'héllo', 'ex', 60])).toEqual([200, { result: 'T0s=' }])
      expect(await rest('/pipeline', [['get', binary], ['mget', binary, key('missing')]])).toEqual(
        [200, [{ result: 'aMOpbGxv' }, { result: ['aMOpbGxv', null] }]],
      )
    })

    it('answers 401 with an Unauthorized body for a wrong token', async () => {
      expect(await rest('/', ['ping'], 'wrong-token')).toEqual([401, { error: 'Unauthorized' }])
    })

    for (const autoPipelining of [true, false]) {
      describe(`with auto-pipelining ${autoPipelining ? 'on' : 'off'}`, () => {
        // Built lazily: describe bodies also run for skipped suites, where there is no URL.
        let redis: Redis
        beforeAll(function createClient() {
          redis = client(autoPipelining)
        })

        it('sets with EX, gets, reports the TTL and returns null for a missing key', async () => {
          const name = key('ex')

          expect(await redis.set(name, 'value', { ex: 60 })).toBe('OK')
          expect(await redis.get(name)).toBe('value')
          const ttl = await redis.ttl(name)
          expect(ttl).toBeGreaterThan(0)
          expect(ttl).toBeLessThanOrEqual(60)
          expect(await redis.get(key('missing'))).toBeNull()
        })

        it('keeps UTF-8 and emoji byte-exact', async () => {
          const name = key('utf8')
          const value = 'héllo wörld 🌍🎉 中文 \u0000 end'

          await redis.set(name, value)

          expect(await redis.get(name)).toBe(value)
          expect(await redis.strlen(name)).toBe(new TextEncoder().encode(value).length)
        })

        it('round-trips JSON values and hashes', async () => {
          const doc = key('json')
          const hash = key('hash')
          const value = { id: 7, tags: ['a', 'b'], nested: { ok: true, note: 'é' } }

          await redis.set(doc, value)
          await redis.hset(hash, { name: 'Ada', visits: 3 })

          expect(await redis.get(doc)).toEqual(value)
          expect(await redis.hgetall(hash)).toEqual({ name: 'Ada', visits: 3 })
        })

        it('runs a pipeline of INCR and EXPIRE in order', async () => {
          const counter = key('counter')

          const pipeline = redis.pipeline().incr(counter).expire(counter, 30).ttl(counter)
          const replies = await pipeline.exec()

          expect(replies).toEqual([1, 1, 30])
        })

        it('runs MULTI/EXEC as a transaction', async () => {
          const counter = key('multi')

          const replies = await redis.multi().incr(counter).incrby(counter, 10).get(counter).exec()

          expect(replies).toEqual([1, 11, 11])
        })

        it('evaluates Lua returning a table', async () => {
          const name = key('eval')
          await redis.set(name, 'x', { ex: 60 })

          const script = 'return {tonumber(ARGV[1]), redis.call("ttl", KEYS[1]), "done"}'
          expect(await redis.eval(script, [name], ['5'])).toEqual([5, 60, 'done'])
        })

        it('falls back from EVALSHA to EVAL for a script Redis has not seen', async () => {
          // A body unique to this run, so NOSCRIPT is guaranteed on the first EVALSHA.
          const body = `return ARGV[1] .. "-${crypto.randomUUID()}"`
          const sha = await sha1Hex(body)
          expect(await redis.scriptExists(sha)).toEqual([0])

          const script = redis.createScript<string>(body)
          expect(await script.exec([], ['first'])).toMatch(/^first-/)
          expect(await redis.scriptExists(sha)).toEqual([1])
          expect(await script.exec([], ['again'])).toMatch(/^again-/)
        })

        it('throws Redis error replies as UpstashError with the Redis text', async () => {
          const name = key('not-a-number')
          await redis.set(name, 'abc')

          const incr = await caught(redis.incr(name))
          expect(incr).toBeInstanceOf(errors.UpstashError)
          expect(String(incr)).toContain('ERR value is not an integer or out of range')

          const lua = await caught(redis.eval('return redis.error_reply("MY_ERR boom")', [], []))
          expect(lua).toBeInstanceOf(errors.UpstashError)
          expect(String(lua)).toContain('MY_ERR boom')
        })

        it('reports a failing pipeline command, or keeps it with keepErrors', async () => {
          const name = key('pipe-error')

          const error = await caught(redis.pipeline().set(name, 'abc').incr(name).exec())
          expect(error).toBeInstanceOf(errors.UpstashError)
          expect(String(error)).toContain('ERR value is not an integer or out of range')

          const kept = await redis.pipeline().get(name).incr(name).exec({ keepErrors: true })
          expect(kept).toEqual([
            { result: 'abc', error: undefined },
            { result: undefined, error: 'ERR value is not an integer or out of range' },
          ])
        })

        it('throws on a wrong token', async () => {
          const error = await caught(client(autoPipelining, 'wrong-token').get(key('any')))

          expect(error).toBeInstanceOf(errors.UpstashError)
          expect(String(error)).toContain('Unauthorized')
        })
      })
    }
  },
)
