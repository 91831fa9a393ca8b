// npm run db:seed: load the demo data into DATABASE_URL (the embedded default does this itself).
import { connectDatabase, disconnectDatabase } from '../src/platform/db.js';
import { loadDemoData } from '../src/demo/load.js';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is required');
  process.exit(1);
}
connectDatabase(databaseUrl);
await loadDemoData();
await disconnectDatabase();
