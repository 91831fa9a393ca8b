// Once per run: a PostgreSQL server (DATABASE_URL's, or the embedded one when unset) and
// a migrated template database that every test file clones.
import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/embedded-postgres.js';
import { prepareTemplateDatabase } from './utils/database.js';
import { redisServerAvailable } from './utils/processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    redisUrl: string | null;
  }
}

export default async function setup(project: TestProject) {
  // CI sets REQUIRE_REDIS: the tests that kill Redis mid-run start their own redis-server.
  if (process.env.REQUIRE_REDIS === '1' && !redisServerAvailable)
    throw new Error('REQUIRE_REDIS=1 but redis-server is not on PATH');
  let embedded: EmbeddedDatabase | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    console.log('DATABASE_URL is not set: tests run on the embedded PostgreSQL in .data/test');
    embedded = await startEmbeddedPostgres(path.resolve('.data/test'));
    adminUrl = embedded.adminUrl;
  }
  const template = await prepareTemplateDatabase(adminUrl);
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('redisUrl', process.env.REDIS_URL ?? null);
  if (!process.env.REDIS_URL) {
    // CI sets REQUIRE_REDIS: there, a skipped Redis test would be a silent hole.
    if (process.env.REQUIRE_REDIS === '1')
      throw new Error('REQUIRE_REDIS=1 but REDIS_URL is not set');
    console.log('REDIS_URL is not set: the Redis variants of the tests are skipped');
  }
  return async () => {
    await embedded?.stop();
  };
}
