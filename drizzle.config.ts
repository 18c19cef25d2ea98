import { defineConfig } from 'drizzle-kit'

// Migrations are generated here, reviewed and committed; wrangler applies them (never at deploy time).
export default defineConfig({
  dialect: 'sqlite',
  schema: './worker/db/schema.ts',
  out: './migrations',
})
