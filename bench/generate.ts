// The benchmark corpus, built inside PostgreSQL with set-based SQL only (generate_series,
// INSERT … SELECT): one taxonomy of 10 × 10 × 10 × 10 nodes (11,110 nodes, 10,000
// leaves), 250,000 documents with 2–6 chunks each (1,000,000 chunks, through the
// chunks_tsv trigger), 1,000,000 agents with one node each, plus a root-scoped agent
// and a leaf-scoped agent. Chunk text is 40–89 words drawn like text: a third function
// words, the rest from a 50,000-word vocabulary with a Zipf distribution (the 20 most common
// words each in 15–45 % of chunks, most words in a few hundred). Secondary indexes of the
// loaded tables are dropped before the load and recreated from their own definitions
// afterwards, and the search index is built once from the loaded chunks (the standard
// bulk-load order: same schema at the end, far faster than row by row).
import type pg from 'pg';
import {
  connect,
  dropSecondaryIndexes,
  onConnections,
  recreateIndexes,
  step,
  vacuumLoadedTables,
} from './bulk-load.js';
import { ms } from './stats.js';
import { AGENT_AREAS, AGENT_TEAMS, ROOT_LABELS, TOPIC_WORDS } from './names.js';
import { CONTENT_WORDS, RARE_WORDS, STOP_WORDS, SYLLABLES, WORDS } from './vocabulary.js';

export const TAXONOMY_VERSION = 'bench-corpus-v1';
export const ROOT_AGENT_NAME = 'Bench root agent (all 10 roots)';
export const LEAF_AGENT_NAME = 'Bench leaf agent (one leaf)';
/** The leaf the leaf agent is scoped to (it has documents: leaves whose index is 4 mod 5 have none). */
export const LEAF_AGENT_NODE_KEY = 'n0.0.0.0';

export const DOCUMENTS = 250_000;
export const AGENTS = 1_000_000;
const SENTENCES = 5_000;
const DOCUMENT_BATCH = 25_000;
/** Tables whose primary keys are dropped and added back around the index build, like the indexes (the build's upserts need the others'). */
const SEARCH_KEY_TABLES = ['search_postings', 'search_phrase_pairs'];
const VOCABULARY_SIZE = 50_000;
const ZIPF_OFFSET = 10;

/** A node id is derived from its key, so every statement can compute it without a lookup. */
const nodeId = (keySql: string) => `md5($1::text || ':' || ${keySql})::uuid`;
/** Leaf number 0..9999 → its key `n{a}.{b}.{c}.{d}`. */
const leafKey = (idx: string) =>
  `('n' || (${idx}) / 1000 || '.' || (${idx}) / 100 % 10 || '.' || (${idx}) / 10 % 10 || '.' || (${idx}) % 10)`;
/** Document d's leaf: 8,000 of the 10,000 leaves get documents (leaf numbers ≡ 4 mod 5 stay empty: coverage gaps). */
const primaryLeaf = (d: string) =>
  `(((${d})::bigint * 7919 % 8000) + ((${d})::bigint * 7919 % 8000) / 4)::int`;

/** The two connections of the load and the taxonomy every loaded row belongs to. */
interface Load {
  /** Runs the single-statement steps. */
  main: pg.Client;
  /** Both connections, for the steps split across backends. */
  both: pg.Client[];
  taxonomyId: string;
}

/** Inserts the taxonomy row; returns its id. */
async function insertTaxonomy(client: pg.Client): Promise<string> {
  return step('taxonomy', async () => {
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO taxonomies ("teamId", version, name)
       SELECT id, $1, 'Benchmark taxonomy' FROM teams WHERE slug = 'default' RETURNING id`,
      [TAXONOMY_VERSION],
    );
    return inserted.rows[0]!.id;
  });
}

async function insertTaxonomyNodes(load: Load): Promise<void> {
  await step('taxonomy_nodes (10 x 10 x 10 x 10)', () =>
    load.main.query(
      `WITH digits AS (
       SELECT ARRAY[r] AS d FROM generate_series(0, 9) r
       UNION ALL SELECT ARRAY[r, s] FROM generate_series(0, 9) r, generate_series(0, 9) s
       UNION ALL SELECT ARRAY[r, s, t] FROM generate_series(0, 9) r, generate_series(0, 9) s, generate_series(0, 9) t
       UNION ALL SELECT ARRAY[r, s, t, u] FROM generate_series(0, 9) r, generate_series(0, 9) s, generate_series(0, 9) t, generate_series(0, 9) u
     ), nodes AS (
       SELECT cardinality(d) - 1 AS depth,
         ARRAY(SELECT 'n' || array_to_string(d[1:k], '.') FROM generate_series(1, cardinality(d)) k ORDER BY k) AS keys,
         ARRAY(SELECT CASE WHEN k = 1 THEN ($2::text[])[d[1] + 1]
                      ELSE initcap(($3::text[])[1 + (d[k] * 3 + k * 7 + d[1]) % cardinality($3::text[])]) || ' ' || array_to_string(d[1:k], '.') END
               FROM generate_series(1, cardinality(d)) k ORDER BY k) AS labels
       FROM digits
     )
     INSERT INTO taxonomy_nodes (id, "taxonomyId", key, label, "parentId", path, "ancestorIds", depth, position)
     SELECT ${nodeId('keys[depth + 1]')}, $1::uuid, keys[depth + 1], labels[depth + 1],
       CASE WHEN depth = 0 THEN NULL ELSE ${nodeId('keys[depth]')} END,
       labels, ARRAY(SELECT ${nodeId('k')} FROM unnest(keys) WITH ORDINALITY AS u(k, o) ORDER BY o), depth,
       (row_number() OVER (ORDER BY depth, keys[depth + 1]) - 1)::int
     FROM nodes`,
      [load.taxonomyId, ROOT_LABELS, TOPIC_WORDS],
    ),
  );
}

// English-like sentences: 8–14 words drawn with a power-law skew (common words first).
async function buildSentencePool(client: pg.Client): Promise<string[]> {
  return step(`sentence pool (${SENTENCES} sentences)`, async () => {
    const pool = await client.query<{ pool: string[] }>(
      `SELECT array_agg(initcap(w[1]) || ' ' || array_to_string(w[2:], ' ') || '.' ORDER BY s) AS pool
       FROM generate_series(1, $2::int) s,
       LATERAL (SELECT array_agg(($1::text[])[1 + floor(power(random(), 2.2) * cardinality($1::text[]))::int] ORDER BY k) AS w
                FROM generate_series(1, 8 + s % 7) k) words`,
      [WORDS, SENTENCES],
    );
    return pool.rows[0]!.pool;
  });
}

/** The documents and the leaves they are filed under. */
async function insertDocuments(load: Load, sentences: string[]): Promise<void> {
  await step(`documents (${DOCUMENTS})`, () =>
    load.main.query(
      `INSERT INTO documents (id, "taxonomyId", title, content, source, "chunkCount", "createdAt")
     SELECT md5('bench-doc:' || d)::uuid, $1::uuid, 'Document ' || d || ': ' || left(($2::text[])[1 + d % $3], 60),
       ($2::text[])[1 + (d * 7) % $3] || ' ' || ($2::text[])[1 + (d * 13) % $3], 'bench://documents/' || d,
       2 + d % 5, now() - d * interval '2 minutes'
     FROM generate_series(0, $4::int - 1) d`,
      [load.taxonomyId, sentences, SENTENCES, DOCUMENTS],
    ),
  );

  await step('document_nodes (one leaf each, 10 % a second leaf)', () =>
    load.main.query(
      `INSERT INTO document_nodes ("documentId", "nodeId")
     SELECT md5('bench-doc:' || d)::uuid, ${nodeId(leafKey(primaryLeaf('d')))} FROM generate_series(0, $2::int - 1) d
     UNION ALL
     SELECT md5('bench-doc:' || d)::uuid, ${nodeId(leafKey(`(${primaryLeaf('d')} + 5000) % 10000`))}
     FROM generate_series(0, $2::int - 1, 10) d`,
      [load.taxonomyId, DOCUMENTS],
    ),
  );
}

/** word(rank): the content word of that Zipf rank (a session-local function of the load's connections). */
async function createWordFunction(clients: pg.Client[]): Promise<void> {
  for (const client of clients) {
    await client.query(`CREATE OR REPLACE FUNCTION pg_temp.bench_word(r integer, top text[], syllables text[]) RETURNS text
      LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN r < cardinality(top) THEN top[r + 1]
          ELSE syllables[1 + r % 30] || syllables[1 + (r / 30) % 30] || syllables[1 + (r / 900) % 30] || syllables[1 + (r / 27000) % 30] END
      $$`);
  }
}

// 2 + d % 5 chunks per document (mean 4), 40–89 words each: 1,000,000 chunks through the tsv
// trigger (the search index is built afterwards, in one pass).
async function insertChunks(load: Load): Promise<void> {
  await createWordFunction(load.both);
  const batches = Array.from(
    { length: Math.ceil(DOCUMENTS / DOCUMENT_BATCH) },
    (_, i) => i * DOCUMENT_BATCH,
  );
  await step(`chunks (1,000,000 via the tsv trigger, 2 connections)`, () =>
    onConnections(
      load.both,
      batches.map((first) => async (client) => {
        const started = performance.now();
        const done = await client.query(
          `INSERT INTO chunks ("documentId", ordinal, content)
       SELECT md5('bench-doc:' || d)::uuid, o,
         (SELECT initcap(string_agg(CASE WHEN random() < 0.35 THEN ($1::text[])[1 + floor(random() * 20)::int]
                                  ELSE pg_temp.bench_word(floor($6::float8 * power(($7::float8 + $6::float8) / $6::float8, random()) - $6::float8)::int, $2::text[], $8::text[]) END, ' '))
          FROM generate_series(1, 40 + (d * 7 + o * 13) % 50)) || '.' ||
         CASE WHEN random() < 0.01 THEN ' Notes on ' || ($3::text[])[1 + floor(random() * cardinality($3::text[]))::int] || '.' ELSE '' END
       FROM generate_series($4::int, $5::int) d, generate_series(0, 1 + d % 5) o`,
          [
            STOP_WORDS,
            CONTENT_WORDS,
            RARE_WORDS,
            first,
            Math.min(DOCUMENTS, first + DOCUMENT_BATCH) - 1,
            ZIPF_OFFSET,
            VOCABULARY_SIZE,
            SYLLABLES,
          ],
        );
        console.log(
          `    chunks for documents ${first}..${first + DOCUMENT_BATCH - 1}: ${done.rowCount} rows in ${ms(performance.now() - started)}`,
        );
      }),
    ),
  );
}

/** The search index from the loaded chunks in one pass (its statement trigger is off during the load). */
async function buildSearchIndex(client: pg.Client): Promise<void> {
  // The keys as the migrations made them (a copy written here once lagged behind one).
  const keys = await client.query<{ table: string; name: string; def: string }>(
    `SELECT t.relname AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS def
     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'p' AND t.relname = ANY($1)`,
    [SEARCH_KEY_TABLES],
  );
  await step(
    'search index: postings, phrase pairs, node statistics, document frequencies',
    async () => {
      for (const key of keys.rows)
        await client.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`);
      await client.query('SELECT search_rebuild_index()');
    },
  );
  await step('search index: primary keys', async () => {
    for (const key of keys.rows)
      await client.query(`ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.def}`);
  });
}

/** The million one-leaf agents, then the root-scoped and the leaf-scoped agent. */
async function insertAgents(load: Load): Promise<void> {
  await step(`agents (${AGENTS}, createdAt over ~1 year)`, () =>
    load.main.query(
      `INSERT INTO agents (id, "teamId", name, "taxonomyId", "taxonomyVersion", "retrievalConfig", "featuresConfig", "createdAt", "updatedAt")
     SELECT md5('bench-agent:' || i)::uuid, (SELECT "teamId" FROM taxonomies WHERE id = $1::uuid),
       'Agent ' || i || ' ' || ($3::text[])[1 + floor(random() * cardinality($3::text[]))::int]
         || ' ' || ($4::text[])[1 + floor(random() * cardinality($4::text[]))::int],
       $1::uuid, $2, '{}', '{}', now() - i * interval '31 seconds', now() - i * interval '31 seconds'
     FROM generate_series(1, $5::int) i`,
      [load.taxonomyId, TAXONOMY_VERSION, AGENT_AREAS, AGENT_TEAMS, AGENTS],
    ),
  );
  await step('agent_nodes (one leaf each)', () =>
    load.main.query(
      `INSERT INTO agent_nodes ("agentId", "nodeId", position)
     SELECT md5('bench-agent:' || i)::uuid, ${nodeId(leafKey('i % 10000'))}, 0 FROM generate_series(1, $2::int) i`,
      [load.taxonomyId, AGENTS],
    ),
  );
  await step('root agent (10 roots) and leaf agent', () =>
    load.main.query(
      `WITH root_agent AS (
       INSERT INTO agents ("teamId", name, "scopeDescription", "taxonomyId", "taxonomyVersion")
       SELECT "teamId", $2, 'every root', $1::uuid, $4 FROM taxonomies WHERE id = $1::uuid RETURNING id
     ), leaf_agent AS (
       INSERT INTO agents ("teamId", name, "scopeDescription", "taxonomyId", "taxonomyVersion")
       SELECT "teamId", $3, 'one leaf', $1::uuid, $4 FROM taxonomies WHERE id = $1::uuid RETURNING id
     )
     INSERT INTO agent_nodes ("agentId", "nodeId", position)
     SELECT root_agent.id, n.id, n.position FROM root_agent, taxonomy_nodes n WHERE n."taxonomyId" = $1::uuid AND n.depth = 0
     UNION ALL SELECT leaf_agent.id, ${nodeId('$5::text')}, 0 FROM leaf_agent`,
      [load.taxonomyId, ROOT_AGENT_NAME, LEAF_AGENT_NAME, TAXONOMY_VERSION, LEAF_AGENT_NODE_KEY],
    ),
  );
}

export async function generateCorpus(url: string): Promise<void> {
  const a = await connect(url);
  const b = await connect(url);
  try {
    const indexes = await dropSecondaryIndexes(a);
    const load: Load = { main: a, both: [a, b], taxonomyId: await insertTaxonomy(a) };
    await insertTaxonomyNodes(load);
    const sentences = await buildSentencePool(a);
    await insertDocuments(load, sentences);
    await step('search classes (the node sets of the documents)', () =>
      a.query(
        `SELECT search_ensure_classes($1::uuid, (SELECT jsonb_agg(s) FROM (SELECT DISTINCT jsonb_agg("nodeId") AS s FROM document_nodes GROUP BY "documentId") x))`,
        [load.taxonomyId],
      ),
    );
    await a.query('ALTER TABLE chunks DISABLE TRIGGER chunks_search_insert');
    await insertChunks(load);
    await a.query('ALTER TABLE chunks ENABLE TRIGGER chunks_search_insert');
    await buildSearchIndex(a);
    await insertAgents(load);
    await recreateIndexes(load.both, indexes);
    await vacuumLoadedTables(load.both);
  } finally {
    await a.end();
    await b.end();
  }
}
