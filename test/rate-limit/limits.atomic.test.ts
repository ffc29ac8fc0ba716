// A limit of N under a burst of 5N concurrent requests through the Worker. On Upstash the
// check is one Lua script, so exactly N pass whatever the interleaving. On KV it is exact
// only within one isolate (which is what Miniflare runs); the README gives the fleet bound.
import { describe, expect, it } from 'vitest'
import { send, testAddress, upstashBindings, type Overrides } from '../cache/harness'
import { upstashConfigured, upstashSkipReason } from '../cache/helpers'

const backends: { name: string; overrides: Overrides; skip: string | undefined }[] = [
  { name: 'kv (one isolate)', overrides: {}, skip: undefined },
  {
    name: 'upstash',
    overrides: upstashBindings,
    skip: upstashConfigured ? undefined : upstashSkipReason,
  },
]

const quota = 10

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(
    `burst on ${backend.name}${backend.skip ? ` (${backend.skip})` : ''}`,
    () => {
      it(`lets exactly ${quota} of ${quota * 5} concurrent requests through`, async () => {
        const address = testAddress()
        const overrides = { ...backend.overrides, RATE_LIMIT_LOGIN: `${quota}/1m` }

        const answers = await Promise.all(
          Array.from({ length: quota * 5 }, () =>
            send('/t/login', {
              method: 'POST',
              headers: { 'cf-connecting-ip': address },
              overrides,
            }),
          ),
        )
        const statuses = answers.map((answer) => answer.status)
        expect(statuses.filter((status) => status === 200)).toHaveLength(quota)
        expect(statuses.filter((status) => status === 429)).toHaveLength(quota * 4)
      })
    },
  )
}
