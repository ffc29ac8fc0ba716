import { createApp } from './app'
import { runScheduledSweep } from './documents/sweeper'

const app = createApp()

export default {
  fetch: app.fetch,
  // wrangler.toml's Cron Trigger: removes uploads that were never completed.
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduledSweep(env, controller.cron))
  },
} satisfies ExportedHandler<Record<string, unknown>>
