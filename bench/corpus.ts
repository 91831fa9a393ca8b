// Generates the corpus once and reuses it: the database comment is the marker of a
// complete generation (written last), so an interrupted run regenerates.
import { applyPendingMigrations } from '../src/platform/migrations/index.js';
import {
  ensureBenchDatabase,
  readCorpusMarker,
  recreateBenchDatabase,
  withClient,
  writeCorpusMarker,
  type BenchServer,
} from './database.js';
import { generateCorpus, LEAF_AGENT_NAME, ROOT_AGENT_NAME, TAXONOMY_VERSION } from './generate.js';
import { heading, line, ms } from './stats.js';

const MARKER = 'bench corpus v2 complete';

export interface Corpus {
  taxonomyId: string;
  rootAgentId: string;
  leafAgentId: string;
  counts: Record<string, number>;
}

export async function ensureCorpus(server: BenchServer, regenerate: boolean): Promise<Corpus> {
  heading('corpus');
  const marker = await readCorpusMarker(server.adminUrl);
  if (!regenerate && marker?.startsWith(MARKER)) {
    line('reusing generated corpus', marker);
    const applied = await applyPendingMigrations(server.url);
    if (applied.length) line('migrations applied since generation', applied.join(', '));
  } else {
    line(
      marker === undefined ? 'generating corpus' : 'regenerating corpus',
      regenerate ? '(--regenerate)' : '(no complete corpus found)',
    );
    if (marker === undefined) await ensureBenchDatabase(server.adminUrl);
    else await recreateBenchDatabase(server.adminUrl);
    const started = performance.now();
    const applied = await applyPendingMigrations(server.url);
    line('migrations applied', `${applied.length} in ${ms(performance.now() - started)}`);
    const generating = performance.now();
    await generateCorpus(server.url);
    const seconds = (performance.now() - generating) / 1000;
    line('generation time', `${seconds.toFixed(1)} s`);
    await checkCorpus(server.url);
    await writeCorpusMarker(
      server.adminUrl,
      `${MARKER}: generated ${new Date().toISOString()} in ${seconds.toFixed(1)} s`,
    );
  }
  const corpus = await loadCorpus(server.url);
  for (const [table, count] of Object.entries(corpus.counts))
    line(`rows ${table}`, count.toLocaleString('en-US'));
  return corpus;
}

async function loadCorpus(url: string): Promise<Corpus> {
  return withClient(url, async (client) => {
    const taxonomy = await client.query<{ id: string }>(
      'SELECT id FROM taxonomies WHERE version = $1',
      [TAXONOMY_VERSION],
    );
    const agents = await client.query<{ name: string; id: string }>(
      'SELECT name, id FROM agents WHERE name = ANY($1)',
      [[ROOT_AGENT_NAME, LEAF_AGENT_NAME]],
    );
    const byName = new Map(agents.rows.map((row) => [row.name, row.id]));
    const counts = await client.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM taxonomy_nodes) AS taxonomy_nodes,
              (SELECT count(*) FROM taxonomy_nodes WHERE depth = 3) AS "taxonomy_nodes (leaves)",
              (SELECT count(*) FROM documents) AS documents,
              (SELECT count(*) FROM document_nodes) AS document_nodes,
              (SELECT count(*) FROM chunks) AS chunks,
              (SELECT sum("chunkCount") FROM documents) AS "sum(documents.chunkCount)",
              (SELECT count(*) FROM agents) AS agents,
              (SELECT count(*) FROM agent_nodes) AS agent_nodes,
              (SELECT reltuples::bigint FROM pg_class WHERE relname = 'search_postings') AS "search_postings (estimate)",
              (SELECT count(*) FROM search_node_terms) AS search_node_terms`,
    );
    const rootAgentId = byName.get(ROOT_AGENT_NAME);
    const leafAgentId = byName.get(LEAF_AGENT_NAME);
    if (!taxonomy.rowCount || !rootAgentId || !leafAgentId) {
      throw new Error(
        `The bench corpus is incomplete (no taxonomy ${TAXONOMY_VERSION} or special agents): run with --regenerate`,
      );
    }
    return {
      taxonomyId: taxonomy.rows[0]!.id,
      rootAgentId,
      leafAgentId,
      counts: Object.fromEntries(Object.entries(counts.rows[0]!).map(([k, v]) => [k, Number(v)])),
    };
  });
}

/** The invariants the brief asks for, checked once after generation. */
async function checkCorpus(url: string): Promise<void> {
  await withClient(url, async (client) => {
    const checks = await client.query<Record<string, string>>(
      `SELECT
         (SELECT count(*) FROM documents d
          LEFT JOIN (SELECT "documentId", count(*) AS n FROM chunks GROUP BY 1) c ON c."documentId" = d.id
          WHERE d."chunkCount" <> coalesce(c.n, 0)) AS "documents with a wrong chunkCount",
         (SELECT count(*) FROM taxonomy_nodes n
          WHERE n."ancestorIds"[cardinality(n."ancestorIds")] <> n.id OR cardinality(n.path) <> n.depth + 1
             OR n."parentId" IS DISTINCT FROM n."ancestorIds"[cardinality(n."ancestorIds") - 1]) AS "nodes with a wrong path",
         (SELECT count(*) FROM chunks WHERE tsv IS NULL) AS "chunks without tsv"`,
    );
    for (const [check, count] of Object.entries(checks.rows[0]!)) line(`check: ${check}`, count);
  });
}
