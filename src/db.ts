// The Prisma client: a module singleton (not in the GraphQL context), connected once
// the database URL is known (it comes from the embedded PostgreSQL when DATABASE_URL is unset).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

let client: PrismaClient | undefined;

export interface DatabaseOptions {
  poolSize?: number;
  /**
   * Called with every SQL statement and its duration in ms as Prisma reports it (waiting for
   * a pooled connection, round trip and commit; tests count statements to catch N+1
   * queries, the enqueue benchmark times its insert).
   */
  onQuery?: (sql: string, durationMs: number) => void;
}

export function connectDatabase(databaseUrl: string, options: DatabaseOptions = {}): PrismaClient {
  if (client) throw new Error('The database is already connected');
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  if (options.onQuery) {
    const onQuery = options.onQuery;
    const logged = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
    logged.$on('query', (event) => onQuery(event.query, event.duration));
    client = logged;
  } else {
    client = new PrismaClient({ adapter });
  }
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
