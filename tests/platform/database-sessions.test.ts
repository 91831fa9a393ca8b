// What the pool sets on every connection it opens (src/platform/db.ts).
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { useHarness } from '../utils/harness.js';

useHarness();

describe('database sessions', () => {
  it('compile JIT only for statements the planner costs past 5,000,000', async () => {
    // Every connection of the pool, not only the first: ask from several at once.
    const rows = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          db().$queryRaw<
            Array<{ cost: string }>
          >`SELECT current_setting('jit_above_cost') AS cost, pg_sleep(0.05)::text`,
      ),
    );
    expect(rows.map(([row]) => Number(row!.cost))).toEqual([
      5_000_000, 5_000_000, 5_000_000, 5_000_000,
    ]);
  });
});
