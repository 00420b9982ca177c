// drizzle-kit configuration of the daemon's SQLite schema:
// `npm run db:generate:daemon` writes migrations into ./migrations.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './daemon/storage/schema.ts',
  out: './daemon/storage/migrations',
});
