// npm run db:migrate | db:migrate:create -- <name> | db:migrate:check
import {
  applyPendingMigrations,
  createMigration,
  diffMigrationsToSchema,
} from '../src/platform/migrations/index.js';

const [command, name] = process.argv.slice(2);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    'DATABASE_URL is required (a PostgreSQL server; create and check also need CREATE DATABASE for a shadow database).',
  );
  process.exit(1);
}

if (command === 'deploy') {
  const applied = await applyPendingMigrations(databaseUrl);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
} else if (command === 'create') {
  if (!name) throw new Error('usage: npm run db:migrate:create -- <name>');
  const created = await createMigration(databaseUrl, name);
  console.log(
    created
      ? `created prisma/migrations/${created}`
      : 'schema.prisma and the migrations agree: nothing to create',
  );
} else if (command === 'check') {
  const drift = await diffMigrationsToSchema(databaseUrl);
  if (drift) {
    console.error('The migrations do not produce prisma/schema.prisma. Missing SQL:\n' + drift);
    process.exit(1);
  }
  console.log('migrations match prisma/schema.prisma');
} else {
  console.error('usage: scripts/migrate.ts deploy | create <name> | check');
  process.exit(1);
}
