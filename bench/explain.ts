// EXPLAIN (ANALYZE, BUFFERS) of the statements the code under test really sends: the
// SQL builders in src/services/sql take a client, so a client that only records the
// tagged template gives us the exact statement and parameters, run again under EXPLAIN.
import { db, type Queryable } from '../src/platform/db.js';
import { Prisma } from '../src/generated/prisma/client.js';

/** The statement `build` would run through `$queryRaw`, without running it. */
export function captureSql(build: (client: Queryable) => unknown): Prisma.Sql {
  let captured: Prisma.Sql | undefined;
  const recorder = {
    $queryRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) {
      captured =
        query instanceof Prisma.Sql ? query : new Prisma.Sql(query, values as Prisma.Sql[]);
      return Promise.resolve([]);
    },
  };
  void build(recorder as unknown as Queryable);
  if (!captured) throw new Error('The builder did not call $queryRaw');
  return captured;
}

export async function explainAnalyze(statement: Prisma.Sql): Promise<string> {
  const rows = await db().$queryRaw<Array<{ 'QUERY PLAN': string }>>(
    Prisma.sql`EXPLAIN (ANALYZE, BUFFERS) ${statement}`,
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

/** A hand-written statement (the ones Prisma builds from findMany / count), with its parameters. */
export async function explainAnalyzeUnsafe(sql: string, ...params: unknown[]): Promise<string> {
  const rows = await db().$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
    `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
    ...params,
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}
