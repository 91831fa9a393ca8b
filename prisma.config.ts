// Prisma 7 CLI configuration. The CLI is only used for `prisma generate` here:
// migrations run offline through scripts/migrate.ts (see README).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' },
});
