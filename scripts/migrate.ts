// `npm run db:migrate`: applies drizzle/ to the database in DATABASE_URL over Neon's HTTP
// driver — the production path. Locally, NEON_FETCH_ENDPOINT points it at the dev stack.
import { applyMigrations } from './local-stack/migrate.ts'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  process.stderr.write('DATABASE_URL is required, e.g. the Neon connection string\n')
  process.exit(1)
}

const { journalEntries } = await applyMigrations({
  databaseUrl,
  fetchEndpoint: process.env.NEON_FETCH_ENDPOINT || undefined,
})
process.stdout.write(`migrations up to date (${journalEntries} in the journal)\n`)
