// The Prisma client: a module singleton (not in the GraphQL context), connected once
// the database URL is known (it comes from the embedded PostgreSQL when DATABASE_URL is unset).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

let client: PrismaClient | undefined;

export function connectDatabase(databaseUrl: string, poolSize = 10): PrismaClient {
  if (client) throw new Error('The database is already connected');
  client = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
  return client;
}

export function db(): PrismaClient {
  if (!client) throw new Error('The database is not connected: call connectDatabase() first');
  return client;
}

export async function disconnectDatabase(): Promise<void> {
  const current = client;
  client = undefined;
  await current?.$disconnect();
}

export type { PrismaClient };
