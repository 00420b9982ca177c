// drizzle-kit configuration of the key center's store:
// `npm run db:generate:keycenter` writes a migration after schema.ts changes.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './keycenter/schema.ts',
  out: './keycenter/migrations',
});
