// The migration that indexes a Hangul word whose particle would leave one syllable (책을) under
// that syllable too: chunks written before it are analysed again, so the bare noun finds them
// without re-ingesting anything.
import { expect, it } from 'vitest';
import { useMigrationDatabase } from '../utils/migration-database.js';

const database = useMigrationDatabase(/^search_korean_one_syllable_stems$/);

it('indexes the chunks already written under their one-syllable stems', async () => {
  const client = database.client();
  const { before, target } = await database.migrations();
  for (const sql of before) await client.query(sql);
  await client.query(`
    WITH team AS (INSERT INTO teams (slug, name) VALUES ('old', 'Old') RETURNING id),
    taxonomy AS (
      INSERT INTO taxonomies ("teamId", version, name) SELECT id, '1.0', 'T' FROM team RETURNING id
    ),
    node AS (
      INSERT INTO taxonomy_nodes (id, "taxonomyId", key, label, path, "ancestorIds", depth, position)
      SELECT '00000000-0000-4000-8000-0000000000e1', id, 'root', 'Root', '{Root}',
             '{00000000-0000-4000-8000-0000000000e1}', 0, 0 FROM taxonomy RETURNING id
    ),
    document AS (
      INSERT INTO documents (id, "taxonomyId", title, content, "chunkCount")
      SELECT '00000000-0000-4000-8000-0000000000d1', id, '책', '그는 책을 읽었다.', 1 FROM taxonomy
      RETURNING id
    )
    INSERT INTO document_nodes ("documentId", "nodeId") SELECT document.id, node.id FROM document, node`);
  await client.query(`
    INSERT INTO chunks ("documentId", ordinal, content)
    VALUES ('00000000-0000-4000-8000-0000000000d1', 0, '그는 책을 읽었다.')`);
  const terms = async () =>
    (
      await client.query<{ term: string }>('SELECT term FROM search_postings ORDER BY term')
    ).rows.map((row) => row.term);
  expect(await terms()).not.toContain('책');

  await client.query(target);

  expect(await terms()).toEqual(expect.arrayContaining(['책', '책을', '그는', '그']));
  const [chunk] = (
    await client.query<{ length: number }>('SELECT "searchLength" AS length FROM chunks')
  ).rows;
  // 그는 그, 책을 책, 읽었 었다: six terms.
  expect(chunk!.length).toBe(6);
});
