// drizzle-kit configuration of the key center's PostgreSQL store:
// `npm run db:generate:keycenter` writes a migration after schema-pg.ts changes
// (schema.ts and schema-pg.ts change together; schema-dialects.test.ts checks).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './keycenter/schema-pg.ts',
  out: './keycenter/migrations-pg',
});
