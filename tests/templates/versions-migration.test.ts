// The migration that starts keeping template versions gives every existing template
// its current content as its first recorded version, and never-updated forks their parent's
// version. Run on a database migrated up to the migration before it, holding templates made
// the old way, then that migration's SQL alone.
import { expect, it } from 'vitest';
import { useMigrationDatabase } from '../utils/migration-database.js';

const database = useMigrationDatabase(/^template_versions$/);

it('records each existing template at its current version, and the parent version of forks never updated', async () => {
  const client = database.client();
  const { before, target: versions } = await database.migrations();
  for (const sql of before) await client.query(sql);

  const { rows: users } = await client.query<{ id: string }>(
    `INSERT INTO "users" ("name") VALUES ('old-author') RETURNING "id"`,
  );
  const owner = users[0]!.id;
  const insert = async (values: Record<string, unknown>) => {
    const columns = Object.keys(values);
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO "templates" (${columns.map((column) => `"${column}"`).join(', ')})
       VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING "id"`,
      Object.values(values),
    );
    return rows[0]!.id;
  };
  const updatedAt = new Date('2026-01-02T03:04:05.678Z');
  const parent = await insert({
    ownerId: owner,
    name: 'old template',
    category: 'DOCS',
    content: 'Dear {{name}}',
    promptSystem: '## Greeting',
    variables: ['name'],
    version: 3,
    changelog: 'third edit',
    updatedAt,
  });
  const base = { ownerId: owner, category: 'DOCS', content: 'copy', parentId: parent };
  const untouchedFork = await insert({
    ...base,
    name: 'fresh fork',
    version: 1,
    changelog: 'Forked from version 2',
  });
  const editedFork = await insert({ ...base, name: 'edited fork', version: 4, changelog: 'mine' });

  await client.query(versions);

  const { rows } = await client.query(
    `SELECT "templateId"::text AS "templateId", "version", "content", "promptSystem", "variables",
            "changelog", "createdById"::text AS "createdById", "createdAt"
     FROM "template_versions" ORDER BY "version"`,
  );
  expect(rows.find((row) => row.templateId === parent)).toEqual({
    templateId: parent,
    version: 3,
    content: 'Dear {{name}}',
    promptSystem: '## Greeting',
    variables: ['name'],
    changelog: 'third edit',
    createdById: owner,
    createdAt: updatedAt,
  });
  expect(rows.map((row) => [row.templateId, row.version]).sort()).toEqual(
    [
      [parent, 3],
      [untouchedFork, 1],
      [editedFork, 4],
    ].sort(),
  );
  const { rows: lineage } = await client.query<{ id: string; parentVersion: number | null }>(
    `SELECT "id"::text AS "id", "parentVersion" FROM "templates"`,
  );
  expect(Object.fromEntries(lineage.map((row) => [row.id, row.parentVersion]))).toEqual({
    [parent]: null,
    [untouchedFork]: 2,
    [editedFork]: null,
  });
  await expect(client.query(`UPDATE "template_versions" SET "content" = 'x'`)).rejects.toThrow(
    /immutable/,
  );
});
