import { defineConfig } from 'drizzle-kit'

// Generation only reads the schema; migrations are applied through the Neon HTTP driver.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  strict: true,
  verbose: false,
})
