// A describe's tests on a database pool of their own (other options than the harness's), and
// the harness's pool again after them.
import { afterAll, beforeAll } from 'vitest';
import {
  connectDatabase,
  disconnectDatabase,
  type DatabaseOptions,
} from '../../src/platform/db.js';

/**
 * Registered before the describe's own hooks: its beforeAll runs first and its afterAll last
 * (vitest runs afterAll hooks in reverse), so theirs use the pool of `options`.
 */
export function useOwnPool(
  harness: { readonly databaseUrl: string },
  options: DatabaseOptions,
): void {
  beforeAll(async () => {
    await disconnectDatabase();
    connectDatabase(harness.databaseUrl, options);
  });
  afterAll(async () => {
    await disconnectDatabase();
    connectDatabase(harness.databaseUrl);
  });
}
