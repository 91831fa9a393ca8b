// `npm run eval:search [-- --queries N]`: the Cranfield collection loaded through
// createTaxonomy + ingestDocuments into one agent, every question asked through queryAgent,
// the chunks' documents scored with nDCG@10, P@10, MAP@100 and hit@3, beside a plain BM25
// over the same documents in the same run. Exits 1 when a target is missed (CI runs it), 2
// when the collection is not there.
import { access } from 'node:fs/promises';
import { connectDatabase, disconnectDatabase } from '../../src/platform/db.js';
import { openFreshBenchDatabase } from '../database.js';
import { createBenchApp, gql } from '../graphql.js';
import { heading, line } from '../stats.js';
import { collectionDir, CRANFIELD_SOURCE, loadCranfield, type Collection } from './cranfield.js';
import { meanScores, type Judged, type Scores } from './metrics.js';
import { PlainBm25 } from './plain-bm25.js';

const TARGETS = { ndcgRatio: 1.0, hit3: 0.75 };
const HITS = 100;
const INGEST_BATCH = 500;

/** What both searches index: the abstract (two of the 1,400 are empty: their title, else a marker). */
const contentOf = (doc: { id: string; title: string; text: string }) =>
  doc.text || doc.title || `(document ${doc.id} has no text)`;

type App = Awaited<ReturnType<typeof createBenchApp>>['app'];

/** The collection as a one-node taxonomy and an agent scoped to it; document id → Cranfield id. */
async function load(app: App, collection: Collection) {
  const version = `cranfield-${Date.now()}`;
  const taxonomy = await gql<any>(
    app,
    'mutation($input: CreateTaxonomyInput!) { createTaxonomy(input: $input) { nodes { id } } }',
    {
      input: { version, name: 'Cranfield', nodes: [{ key: 'aero', label: 'Aeronautics' }] },
    },
  );
  const nodeId = taxonomy.data.createTaxonomy.nodes[0].id;
  const cranfieldId = new Map<string, string>();
  for (let start = 0; start < collection.documents.length; start += INGEST_BATCH) {
    const batch = collection.documents.slice(start, start + INGEST_BATCH);
    const ingested = await gql<any>(
      app,
      'mutation($v: String!, $d: [DocumentInput!]!) { ingestDocuments(taxonomyVersion: $v, documents: $d) { documentIds } }',
      {
        v: version,
        d: batch.map((doc) => ({
          title: doc.title || `Cranfield ${doc.id}`,
          content: contentOf(doc),
          taxonomyNodeIds: [nodeId],
          source: `cranfield:${doc.id}`,
        })),
      },
    );
    ingested.data.ingestDocuments.documentIds.forEach((id: string, i: number) =>
      cranfieldId.set(id, batch[i]!.id),
    );
  }
  const agent = await gql<any>(
    app,
    'mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id } }',
    {
      input: { name: 'Cranfield agent', taxonomyVersion: version, taxonomyNodeIds: [nodeId] },
    },
  );
  return { agentId: agent.data.createAgentFromTaxonomy.id as string, cranfieldId };
}

/** Documents in the order their best chunk ranks. */
async function askAgent(
  app: App,
  agentId: string,
  question: string,
  cranfieldId: Map<string, string>,
): Promise<string[]> {
  const result = await gql<any>(
    app,
    'query($a: ID!, $q: String!, $k: Int) { queryAgent(agentId: $a, query: $q, topK: $k) { hits { documentId } } }',
    {
      a: agentId,
      q: question,
      k: HITS,
    },
  );
  return [
    ...new Set(
      result.data.queryAgent.hits.map((hit: { documentId: string }) =>
        cranfieldId.get(hit.documentId)!,
      ),
    ),
  ] as string[];
}

const format = (scores: Scores) =>
  `nDCG@10 ${scores.ndcg10.toFixed(4)}  P@10 ${scores.p10.toFixed(4)}  MAP@100 ${scores.map100.toFixed(4)}  hit@3 ${scores.hit3.toFixed(4)}`;

async function evaluate(
  collection: Collection,
  queryCount: number,
): Promise<{ ours: Scores; plain: Scores }> {
  const database = await openFreshBenchDatabase('agent_growth_eval');
  connectDatabase(database.url);
  const { app, close } = await createBenchApp();
  try {
    const started = performance.now();
    const { agentId, cranfieldId } = await load(app, collection);
    line(
      'loaded',
      `${collection.documents.length} documents through ingestDocuments in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const plain = new PlainBm25(
      collection.documents.map((doc) => ({ id: doc.id, text: contentOf(doc) })),
    );
    const queries = collection.queries
      .slice(0, queryCount)
      .filter((q) => collection.judgements.has(q.id));
    const ours: Array<{ ranked: string[]; judged: Judged }> = [];
    const baseline: Array<{ ranked: string[]; judged: Judged }> = [];
    for (const query of queries) {
      const judged = collection.judgements.get(query.id)!;
      ours.push({ ranked: await askAgent(app, agentId, query.text, cranfieldId), judged });
      baseline.push({ ranked: plain.search(query.text, HITS), judged });
    }
    line('questions', `${queries.length} of ${collection.queries.length} (with judgements)`);
    return { ours: meanScores(ours), plain: meanScores(baseline) };
  } finally {
    await close();
    await disconnectDatabase();
    await database.stop();
  }
}

async function main(): Promise<void> {
  const queriesArg = process.argv.indexOf('--queries');
  const queryCount = queriesArg > 0 ? Number(process.argv[queriesArg + 1]) : Infinity;
  heading('search quality: Cranfield (1,400 abstracts, 225 questions, graded judgements)');
  const dir = collectionDir();
  if (
    !(await access(dir).then(
      () => true,
      () => false,
    ))
  ) {
    console.error(
      `The Cranfield collection is not in ${dir} (SEARCH_EVAL_DIR): see bench/eval/README.md for where to get it.`,
    );
    process.exit(2);
  }
  line(
    'collection',
    `${dir} (${CRANFIELD_SOURCE.repository} @ ${CRANFIELD_SOURCE.commit.slice(0, 7)}, checked by sha256)`,
  );
  const { ours, plain } = await evaluate(await loadCranfield(dir), queryCount);
  line('queryAgent (BM25 in PostgreSQL)', format(ours));
  line('plain BM25 (same run, same documents)', format(plain));
  const ratio = ours.ndcg10 / plain.ndcg10;
  const checks = [
    {
      label: `nDCG@10 / plain BM25 >= ${TARGETS.ndcgRatio}`,
      value: ratio,
      met: ratio >= TARGETS.ndcgRatio,
    },
    { label: `hit@3 >= ${TARGETS.hit3}`, value: ours.hit3, met: ours.hit3 >= TARGETS.hit3 },
  ];
  heading('targets');
  for (const check of checks)
    line(check.label, `${check.met ? 'MET   ' : 'MISSED'} ${check.value.toFixed(4)}`);
  if (checks.some((check) => !check.met)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
