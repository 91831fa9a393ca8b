// The search index (postings, phrase pairs, per-node statistics) follows every ingest and delete in the
// same transaction: after each, it equals what a recomputation from the chunks gives.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import {
  CreateAgentMutation,
  CreateTaxonomyMutation,
  IngestDocumentsMutation,
} from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { keepTermsFrom } from '../utils/search-index.js';

const h = useHarness();

const deleteDocuments =
  'mutation($ids: [ID!]!) { deleteDocuments(ids: $ids) { documentCount chunkCount } }';
const search =
  'query($agentId: ID!, $query: String!) { queryAgent(agentId: $agentId, query: $query) { totalResults hits { documentId title } } }';

/** Rows of the index that differ from a recomputation from chunks, documents and the taxonomy. */
async function indexDrift() {
  return db().$queryRaw<Array<{ what: string; n: number }>>`
    WITH chunk_nodes AS (
      SELECT DISTINCT c.id, c.tsv, c."searchLength" AS dl, a AS node
      FROM chunks c JOIN document_nodes dn ON dn."documentId" = c."documentId"
      JOIN taxonomy_nodes n ON n.id = dn."nodeId", unnest(n."ancestorIds") a
    ),
    expected_stats AS (SELECT node, count(*)::int AS chunks, sum(dl)::bigint AS length FROM chunk_nodes GROUP BY node),
    expected_terms AS (
      SELECT node, l.lexeme AS term, count(*)::int AS df FROM chunk_nodes, unnest(tsv) l
      WHERE node IN (SELECT "nodeId" FROM search_node_stats WHERE "keepsTerms") GROUP BY 1, 2),
    expected_postings AS (SELECT l.lexeme AS term, c.id, cardinality(l.positions) AS tf FROM chunks c, unnest(c.tsv) l),
    chunk_words AS (
      SELECT c.id, c."searchClassId" AS class, c."searchLength" AS dl, l.lexeme, cardinality(l.positions) AS tf, p,
             lead(l.lexeme) OVER w AS next, lead(cardinality(l.positions)) OVER w AS next_tf, lead(p) OVER w AS next_p
      FROM chunks c, unnest(c.tsv) l, unnest(l.positions) p WINDOW w AS (PARTITION BY c.id ORDER BY p)),
    expected_pairs AS (
      SELECT DISTINCT lexeme || ' ' || next AS pair, id, class, tf, next_tf, dl FROM chunk_words WHERE next_p = p + 1)
    SELECT 'stats' AS what, count(*)::int AS n FROM (
      (SELECT node, chunks, length FROM expected_stats EXCEPT SELECT "nodeId", chunks, length FROM search_node_stats WHERE chunks > 0)
      UNION ALL (SELECT "nodeId", chunks, length FROM search_node_stats WHERE chunks > 0 EXCEPT SELECT node, chunks, length FROM expected_stats)) d
    UNION ALL
    SELECT 'terms', count(*)::int FROM (
      (SELECT node, term, df FROM expected_terms EXCEPT SELECT "nodeId", term, df FROM search_node_terms)
      UNION ALL (SELECT "nodeId", term, df FROM search_node_terms EXCEPT SELECT node, term, df FROM expected_terms)) d
    UNION ALL
    SELECT 'postings', count(*)::int FROM (
      (SELECT term, id, tf FROM expected_postings EXCEPT SELECT term, "chunkId", tf FROM search_postings)
      UNION ALL (SELECT term, "chunkId", tf FROM search_postings EXCEPT SELECT term, id, tf FROM expected_postings)) d
    UNION ALL
    SELECT 'phrase pairs', count(*)::int FROM (
      (SELECT pair, id, class, tf, next_tf, dl FROM expected_pairs
       EXCEPT SELECT pair, "chunkId", "classId", "firstTf", "secondTf", dl FROM search_phrase_pairs)
      UNION ALL (SELECT pair, "chunkId", "classId", "firstTf", "secondTf", dl FROM search_phrase_pairs
                 EXCEPT SELECT pair, id, class, tf, next_tf, dl FROM expected_pairs)) d
    UNION ALL
    SELECT 'chunks without a class', count(*)::int FROM chunks WHERE "searchClassId" IS NULL
    UNION ALL
    SELECT 'nodes that should keep terms', count(*)::int FROM search_node_stats WHERE NOT "keepsTerms" AND chunks >= search_terms_kept_from()`;
}

const noDrift = [
  { what: 'stats', n: 0 },
  { what: 'terms', n: 0 },
  { what: 'postings', n: 0 },
  { what: 'phrase pairs', n: 0 },
  { what: 'chunks without a class', n: 0 },
  { what: 'nodes that should keep terms', n: 0 },
];

describe('search index maintenance', () => {
  it('follows ingests (concurrent ones too) and deletes, in the same transaction', async () => {
    await keepTermsFrom(4);
    const corpus = await createCorpus(h);
    expect(await indexDrift()).toEqual(noDrift);
    const kept = await db().searchNodeStats.count({ where: { keepsTerms: true } });
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(await db().searchNodeStats.count());
    expect(await db().searchPosting.count()).toBeGreaterThan(50);
    expect(await db().searchPhrasePair.count()).toBeGreaterThan(50);

    // Two ingests at once into the same nodes: the shared statistics rows add up.
    const documents = (n: number, word: string) =>
      Array.from({ length: n }, (_, i) => ({
        title: `${word} ${i}`,
        content: `${word} report number ${i}. Shared words in every one.`,
        taxonomyNodeIds: [corpus.nodeIds.ml!, corpus.nodeIds.fin!],
      }));
    const [first, second] = await Promise.all([
      h.gql(IngestDocumentsMutation, {
        taxonomyVersion: corpus.version,
        documents: documents(40, 'quarterly'),
      }),
      h.gql(IngestDocumentsMutation, {
        taxonomyVersion: corpus.version,
        documents: documents(40, 'monthly'),
      }),
    ]);
    expect(first.errors ?? second.errors).toBeUndefined();
    expect(await indexDrift()).toEqual(noDrift);
    expect(await db().searchNodeStats.count({ where: { keepsTerms: true } })).toBeGreaterThan(kept); // ml and fin grew past 4

    const agent = (
      await h.gql(CreateAgentMutation, {
        input: {
          name: 'Reports',
          taxonomyVersion: corpus.version,
          taxonomyNodeIds: [corpus.nodeIds.ml!],
        },
      })
    ).data!.createAgentFromTaxonomy;
    expect(
      (await h.gql(search, { agentId: agent.id, query: 'quarterly' })).data.queryAgent.totalResults,
    ).toBe(40);

    const ids = first.data!.ingestDocuments.documentIds.slice(0, 30);
    const deleted = await h.gql(deleteDocuments, { ids });
    expect(deleted.data.deleteDocuments).toEqual({ documentCount: 30, chunkCount: 30 });
    expect(await indexDrift()).toEqual(noDrift);
    const after = (await h.gql(search, { agentId: agent.id, query: 'quarterly' })).data.queryAgent;
    expect(after.totalResults).toBe(10);
    expect(after.hits.every((hit: any) => !ids.includes(hit.documentId))).toBe(true);
    expect(await db().searchPosting.count({ where: { term: 'quarter' } })).toBe(10);
  });

  it('creates the search classes of concurrent ingests without deadlocking, whatever their order', async () => {
    const version = `classes-${Math.random().toString(36).slice(2, 8)}`;
    const nodes = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, label: `Node ${i}` }));
    const created = await h.gql(CreateTaxonomyMutation, {
      input: { version, name: 'Classes', nodes },
    });
    const ids = created.data!.createTaxonomy.nodes.map((n) => n.id);
    const pairs = ids.flatMap((a, i) => ids.slice(i + 1).map((b) => [a, b]));
    for (let round = 0; round < 6; round++) {
      const sets = pairs.slice(round * 10, round * 10 + 10);
      const ingest = (order: string[][]) =>
        h.gql(IngestDocumentsMutation, {
          taxonomyVersion: version,
          documents: order.map((set, i) => ({
            title: `Round ${round} ${i}`,
            content: `Filed under two nodes, round ${round}.`,
            taxonomyNodeIds: set,
          })),
        });
      const results = await Promise.all([ingest(sets), ingest([...sets].reverse())]);
      expect(
        results.map((r) => r.errors),
        `round ${round}`,
      ).toEqual([undefined, undefined]);
    }
    expect(await db().searchClass.count({ where: { taxonomy: { version } } })).toBe(60);
    expect(await indexDrift()).toEqual(noDrift);
  });

  it('deletes all or nothing: an unknown id is NOT_FOUND and nothing is deleted', async () => {
    const corpus = await createCorpus(h);
    const ingested = await h.gql(IngestDocumentsMutation, {
      taxonomyVersion: corpus.version,
      documents: [
        { title: 'One', content: 'Solitary text.', taxonomyNodeIds: [corpus.nodeIds.pg!] },
      ],
    });
    const [id] = ingested.data!.ingestDocuments.documentIds;
    const before = await db().chunk.count();
    expect(
      errorCodes(
        await h.gql(deleteDocuments, { ids: [id, '00000000-0000-0000-0000-000000000000'] }),
      ),
    ).toEqual(['NOT_FOUND']);
    expect(errorCodes(await h.gql(deleteDocuments, { ids: ['garbage'] }))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await h.gql(deleteDocuments, { ids: [] }))).toEqual(['BAD_USER_INPUT']);
    expect(await db().chunk.count()).toBe(before);
    expect((await h.gql(deleteDocuments, { ids: [id] })).data.deleteDocuments.documentCount).toBe(
      1,
    );
    expect(errorCodes(await h.gql(deleteDocuments, { ids: [id] }))).toEqual(['NOT_FOUND']);
    expect(await indexDrift()).toEqual(noDrift);
  });

  it('cuts a run-on text between words, never inside a word or a character', async () => {
    const corpus = await createCorpus(h);
    // No sentence end in 2,800 characters: the hard limit cuts it.
    const content =
      `${'x'.repeat(995)} needleword more words ${'y'.repeat(300)} ` +
      `${'a'.repeat(999)}😀${'b'.repeat(500)} emojisplit`;
    const ingested = await h.gql(IngestDocumentsMutation, {
      taxonomyVersion: corpus.version,
      documents: [{ title: 'Run-on', content, taxonomyNodeIds: [corpus.nodeIds.pg!] }],
    });
    expect(ingested.errors).toBeUndefined();
    const [documentId] = ingested.data!.ingestDocuments.documentIds;
    const chunks = (
      await db().chunk.findMany({ where: { documentId }, orderBy: { ordinal: 'asc' } })
    ).map((chunk) => chunk.content);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(1_000);
      expect(chunk).not.toContain('\uFFFD');
    }
    // Every word that fits a chunk is whole in one; a longer one is cut, but not inside the emoji.
    for (const word of content.split(' ').filter((each) => each.length <= 1_000))
      expect(
        chunks.some((chunk) => chunk.split(/\s+/).includes(word)),
        word.slice(0, 12),
      ).toBe(true);
    expect(chunks.join('').replace(/\s+/g, '')).toBe(content.replace(/\s+/g, ''));
  });

  it('indexes Korean words without their particles, as syllable pairs', async () => {
    const titles = await searchOfFinance('Finance', [
      ['보고서', '분기 보고서는 매출과 비용을 정리한다.'],
      ['주간보고서', '팀은 주간보고서를 금요일에 작성했다.'],
      ['회의록', '회의에서 예산을 논의했다.'],
    ]);
    for (const query of ['보고서', '보고서를', '보고서는', '보고서의'])
      expect(await titles(query), query).toEqual(['보고서', '주간보고서']);
    expect(await titles('작성한 보고서')).toEqual(['주간보고서', '보고서']);
    expect(await titles('예산')).toEqual(['회의록']);
    const lexemes = await db().$queryRaw<
      Array<{ l: string }>
    >`SELECT unnest(tsvector_to_array(to_tsvector('english', search_text('보고서를 작성했다')))) AS l`;
    expect(lexemes.map((row) => row.l).sort()).toEqual(['고서', '보고', '성했', '작성', '했다']);
  });

  it('finds a one-syllable noun under any of its particles', async () => {
    const found = await searchOfFinance('Nouns', [
      ['책을', '그는 책을 읽었다.'],
      ['책에서', '우리는 책에서 배웠다.'],
      ['법은', '법은 모두에게 같다.'],
      ['돈이', '돈이 부족했다.'],
    ]);
    const titles = async (query: string) => (await found(query)).sort();
    for (const query of ['책', '책을', '책은', '책에서'])
      expect(await titles(query), query).toEqual(['책에서', '책을']);
    expect(await titles('법')).toEqual(['법은']);
    expect(await titles('돈')).toEqual(['돈이']);
    // A word that keeps two syllables after its particle is indexed as before.
    const lexemes = await db().$queryRaw<
      Array<{ l: string }>
    >`SELECT unnest(tsvector_to_array(to_tsvector('english', search_text('책을 회의에서')))) AS l`;
    expect(lexemes.map((row) => row.l).sort()).toEqual(['책', '책을', '회의']);
  });
});

/**
 * An agent over a new corpus's finance node holding `documents` ([title, content] each): the
 * titles a query finds there, in rank order.
 */
async function searchOfFinance(name: string, documents: Array<[string, string]>) {
  const corpus = await createCorpus(h);
  await h.gql(IngestDocumentsMutation, {
    taxonomyVersion: corpus.version,
    documents: documents.map(([title, content]) => ({
      title,
      content,
      taxonomyNodeIds: [corpus.nodeIds.fin!],
    })),
  });
  const agent = (
    await h.gql(CreateAgentMutation, {
      input: { name, taxonomyVersion: corpus.version, taxonomyNodeIds: [corpus.nodeIds.fin!] },
    })
  ).data!.createAgentFromTaxonomy;
  return async (query: string): Promise<string[]> =>
    (await h.gql(search, { agentId: agent.id, query })).data.queryAgent.hits.map(
      (hit: any) => hit.title,
    );
}
