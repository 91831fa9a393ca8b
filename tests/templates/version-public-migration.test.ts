// The migration that records whether a template was public when each version was written: the
// versions of templates public before it stay readable by everyone (when they were written is
// not known), those of private templates stay their team's, and version rows stay immutable.
import { expect, it } from 'vitest';
import { useMigrationDatabase } from '../utils/migration-database.js';

const database = useMigrationDatabase(/^template_version_public$/);

it('marks every version of a template public now as public, and the rest not', async () => {
  const client = database.client();
  const { before, target } = await database.migrations();
  for (const sql of before) await client.query(sql);
  const { rows } = await client.query<{ id: string; isPublic: boolean }>(
    `WITH team AS (INSERT INTO "teams" ("slug", "name") VALUES ('old', 'Old') RETURNING "id")
     INSERT INTO "templates" ("teamId", "name", "category", "content", "version", "isPublic")
     SELECT team."id", 'old ' || p::text, 'DOCS', 'x', 2, p FROM team, (VALUES (true), (false)) AS v(p)
     RETURNING "id"::text AS "id", "isPublic"`,
  );
  for (const row of rows)
    await client.query(
      `INSERT INTO "template_versions" ("templateId", "version", "content")
       VALUES ($1, 1, 'one'), ($1, 2, 'two')`,
      [row.id],
    );

  await client.query(target);

  const { rows: versions } = await client.query<{ templateId: string; isPublic: boolean }>(
    `SELECT "templateId"::text AS "templateId", "isPublic" FROM "template_versions"`,
  );
  const publicId = rows.find((row) => row.isPublic)!.id;
  expect(versions).toHaveLength(4);
  for (const version of versions)
    expect(version.isPublic, version.templateId).toBe(version.templateId === publicId);
  await expect(
    client.query(`UPDATE "template_versions" SET "isPublic" = NOT "isPublic"`),
  ).rejects.toThrow(/immutable/);
});
