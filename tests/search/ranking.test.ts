// BM25 as ranking.ts computes it, against a reference computed here from the chunks' own
// tsvectors (PostgreSQL's analysis, nothing of the search index): the same chunks in the
// same order with the same scores, for every plan, on a corpus large enough for the
// threshold algorithm to stop early.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { B, K1, termFrequencyWeight } from '../../src/services/search/bm25.js';
import { parseQuery } from '../../src/services/search/query-syntax.js';
import { rankChunksWithPlan } from '../../src/services/search/forced-plan.js';
import { searchOf, type RankingPlan } from '../../src/services/search/ranking.js';
import { rankAboveFloors } from '../../src/services/search/sql/rank-above-floors.js';
import { rankSplitCandidates } from '../../src/services/search/sql/rank-split-candidates.js';
import { selectScopeStatistics } from '../../src/services/search/sql/scope-statistics.js';
import {
  CreateAgentMutation,
  CreateTaxonomyMutation,
  IngestDocumentsMutation,
} from '../client/operations.js';
import { useHarness } from '../utils/harness.js';
import { keepTermsFrom } from '../utils/search-index.js';

const h = useHarness();

const SYLLABLES = [
  'ba',
  'ko',
  'ri',
  'mu',
  'te',
  'lo',
  'na',
  'pi',
  'du',
  'ge',
  'fa',
  'zo',
  'ye',
  'wi',
  'hu',
  'qa',
  've',
  'jo',
];
/** 324 made-up words, most frequent first. */
const VOCABULARY = SYLLABLES.flatMap((a) => SYLLABLES.map((b) => `${a}${b}`));
const word = (rank: number) => VOCABULARY[rank]!;

/** Deterministic pseudo-random text, Zipf-like: a few words are common, most are rare. */
function text(seed: number, words: number): string {
  let state = seed * 2_654_435_761;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: words }, () =>
    word(Math.floor(VOCABULARY.length * next() ** 3)),
  ).join(' ');
}

async function createCorpus(documents: number) {
  const version = `rank-${Math.random().toString(36).slice(2, 8)}`;
  const nodes = [
    { key: 'a', label: 'A' },
    { key: 'a1', label: 'A1', parentKey: 'a' },
    { key: 'a2', label: 'A2', parentKey: 'a' },
    { key: 'b', label: 'B' },
  ];
  const created = await h.gql(CreateTaxonomyMutation, {
    input: { version, name: 'Ranking', nodes },
  });
  const nodeIds = Object.fromEntries(created.data!.createTaxonomy.nodes.map((n) => [n.key, n.id]));
  const keys = [['a1'], ['a2'], ['b'], ['a1', 'b']];
  const ingested = await h.gql(IngestDocumentsMutation, {
    taxonomyVersion: version,
    documents: Array.from({ length: documents }, (_, i) => ({
      title: `Doc ${i}`,
      content: text(i + 1, 30 + ((i * 37) % 100)),
      taxonomyNodeIds: keys[i % keys.length]!.map((k) => nodeIds[k]!),
    })),
  });
  expect(ingested.errors).toBeUndefined();
  const agent = async (scope: string[]) => {
    const response = await h.gql(CreateAgentMutation, {
      input: {
        name: `Agent ${scope.join('+')}`,
        taxonomyVersion: version,
        taxonomyNodeIds: scope.map((k) => nodeIds[k]!),
      },
    });
    return parseGlobalId('Agent', response.data!.createAgentFromTaxonomy.id)!;
  };
  return { agent };
}

/**
 * BM25 over the scope's chunks, from their tsvectors: chunk id → score, best first. The
 * scope's statistics count a chunk once per agent node it is filed under (the README's
 * definition: the scope's corpus is its nodes' corpora together).
 */
async function referenceRanking(agentId: string, query: string) {
  const chunks = await db().$queryRaw<
    Array<{ id: string; nodes: number; lexemes: Array<{ lexeme: string; tf: number }> }>
  >`
    SELECT c.id::text, x.nodes,
      (SELECT json_agg(json_build_object('lexeme', l.lexeme, 'tf', cardinality(l.positions))) FROM unnest(c.tsv) l) AS lexemes
    FROM chunks c
    CROSS JOIN LATERAL (
      SELECT count(DISTINCT an."nodeId")::int AS nodes
      FROM document_nodes dn JOIN taxonomy_nodes n ON n.id = dn."nodeId" JOIN agent_nodes an ON an."nodeId" = ANY (n."ancestorIds")
      WHERE dn."documentId" = c."documentId" AND an."agentId" = ${agentId}::uuid) x
    WHERE x.nodes > 0`;
  const terms = await db().$queryRaw<Array<{ lexeme: string; qtf: number }>>`
    SELECT lexeme, cardinality(positions) AS qtf FROM unnest(to_tsvector('english', search_text(${query})))`;
  const tf = chunks.map((c) => new Map((c.lexemes ?? []).map((l) => [l.lexeme, l.tf])));
  const length = tf.map((m) => [...m.values()].reduce((a, b) => a + b, 0));
  const weight = chunks.map((c) => c.nodes);
  const total = weight.reduce((a, b) => a + b, 0);
  const averageLength = length.reduce((sum, l, i) => sum + l * weight[i]!, 0) / total;
  const scores = chunks.map((c, i) => {
    let score = 0;
    let matched = false;
    for (const { lexeme, qtf } of terms) {
      const f = tf[i]!.get(lexeme);
      if (!f) continue;
      matched = true;
      const df = tf.reduce((sum, m, j) => sum + (m.has(lexeme) ? weight[j]! : 0), 0);
      const idf = Math.log(1 + (total - df + 0.5) / (df + 0.5));
      score += qtf * idf * ((f * (K1 + 1)) / (f + K1 * (1 - B + (B * length[i]!) / averageLength)));
    }
    return { chunkId: c.id, score, matched };
  });
  return scores
    .filter((s) => s.matched)
    .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1));
}

/** Postings of the query's terms in the scope: what scoring every match reads. */
async function postingsInScope(agentId: string, query: string): Promise<number> {
  const [row] = await db().$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM chunks c, unnest(c.tsv) l
    WHERE l.lexeme IN (SELECT lexeme FROM unnest(to_tsvector('english', ${query})))
      AND EXISTS (SELECT 1 FROM document_nodes dn JOIN taxonomy_nodes n ON n.id = dn."nodeId" JOIN agent_nodes an ON an."nodeId" = ANY (n."ancestorIds")
                  WHERE dn."documentId" = c."documentId" AND an."agentId" = ${agentId}::uuid)`;
  return row!.n;
}

async function rank(agentId: string, query: string, limit: number, plan: RankingPlan) {
  const parsed = parseQuery(query);
  return rankChunksWithPlan(
    db(),
    await selectScopeStatistics(db(), agentId, parsed, null),
    limit,
    plan,
  );
}

function expectSameRanking(
  actual: Array<{ chunkId: string; score: number }>,
  expected: Array<{ chunkId: string; score: number }>,
  label: string,
) {
  expect(
    actual.map((r) => r.score),
    label,
  ).toEqual(expected.map((r) => expect.closeTo(r.score, 9)));
  // Equal scores may come in either order, and a tie at the cut may keep either chunk.
  const last = expected.at(-1)?.score ?? 0;
  const above = (rows: typeof actual) =>
    rows
      .filter((r) => r.score > last + 1e-9)
      .map((r) => `${r.score.toFixed(9)} ${r.chunkId}`)
      .sort();
  expect(above(actual), label).toEqual(above(expected));
}

describe('BM25 ranking', () => {
  it('scores like the reference with each plan, and the threshold algorithm stops early', async () => {
    // Some nodes keep their document frequencies, some count them when asked.
    await keepTermsFrom(200);
    const corpus = await createCorpus(600);
    const scopes = {
      whole: await corpus.agent(['a', 'b']),
      subtree: await corpus.agent(['a']),
      leaf: await corpus.agent(['a2']),
    };
    const queries = [
      word(0),
      word(300),
      `${word(1)} ${word(2)}`,
      `${word(40)} ${word(90)} ${word(150)} ${word(250)}`,
      `${word(0)} ${word(0)} ${word(5)} ${word(120)}`,
      `${word(3)} ${word(8)} ${word(13)} ${word(30)} ${word(60)} ${word(200)} ${word(4)} ${word(7)}`,
    ];
    let pruned = 0;
    let floors = 0;
    let split = 0;
    for (const [scopeName, agentId] of Object.entries(scopes)) {
      for (const query of queries) {
        const reference = await referenceRanking(agentId, query);
        for (const plan of [
          'postings',
          'scope',
          'floors',
          'split',
          'threshold',
          'pruned',
        ] as const) {
          for (const limit of [1, 5, 20]) {
            const ranking = await rank(agentId, query, limit, plan);
            const label = `${scopeName} "${query}" ${plan} top ${limit}`;
            expectSameRanking(ranking.ranked, reference.slice(0, limit), label);
            if (!ranking.totalIsEstimate) expect(ranking.total, label).toBe(reference.length);
            // 'floors' gives way to the threshold algorithm where it does not apply (one word, too many postings above the floors).
            if (ranking.plan === 'floors') floors++;
            if (ranking.plan === 'split') split++;
          }
        }
        // Stopping early: the top 5 known exactly from a part of the postings.
        const threshold = await rank(agentId, query, 5, 'threshold');
        if (threshold.postingsRead! < (await postingsInScope(agentId, query)) / 2) pruned++;
      }
    }
    // Common words and short queries: under half the postings in every scope (measured: 9 of 18).
    expect(pruned).toBeGreaterThanOrEqual(queries.length);
    // The floors rank the two- to four-word queries in every scope, at every k.
    expect(floors).toBeGreaterThanOrEqual(3 * 3 * 3);
    // The common-word split ranks some queries of five words or more ('split' forced).
    expect(split).toBeGreaterThan(0);
  });

  it('ranks exactly above the floors, and gives way past its posting cap', async () => {
    const corpus = await createCorpus(300);
    const agentId = await corpus.agent(['a', 'b']);
    const query = `${word(1)} ${word(2)} ${word(9)}`;
    const reference = await referenceRanking(agentId, query);
    const search = searchOf(
      await selectScopeStatistics(db(), agentId, parseQuery(query), null),
      10,
    );
    // Floors of 0 for the first two words: every chunk with one of them is a candidate, scored
    // from the postings read plus the third word's by random access.
    const floors = [{ weight: 0, impact: 0 }, { weight: 0, impact: 0 }, null];
    const withFirstTwo = reference.filter((r) => r.score > 0).length;
    expect(await rankAboveFloors(db(), search, floors, 10)).toBeUndefined();
    const ranked = (await rankAboveFloors(db(), search, floors, 1_000_000))!;
    const expected = (await referenceRanking(agentId, `${word(1)} ${word(2)}`)).map(
      (r) => r.chunkId,
    );
    const candidates = reference.filter((r) => expected.includes(r.chunkId));
    expect(withFirstTwo).toBeGreaterThan(candidates.length); // the third word alone does not make a candidate
    expectSameRanking(ranked, candidates.slice(0, 10), query);
  });

  it("ranks the split's candidates exactly: its sets' chunks and its postings above a cutoff, in the scope", async () => {
    const corpus = await createCorpus(300);
    const agentId = await corpus.agent(['a']); // a part of the taxonomy: the scope is checked
    const query = `${word(1)} ${word(2)} ${word(40)} ${word(90)}`;
    const reference = await referenceRanking(agentId, query);
    const search = searchOf(
      await selectScopeStatistics(db(), agentId, parseQuery(query), null),
      10_000,
    );
    const none = search.terms.map(() => null);
    const matching = async (tsquery: string) =>
      new Set(
        (
          await db().$queryRaw<
            Array<{ id: string }>
          >`SELECT id::text FROM chunks WHERE tsv @@ ${tsquery}::tsquery`
        ).map((r) => r.id),
      );

    // A set alone: the scope's chunks holding both of its words, every one of them scored.
    const [set] = await db().$queryRaw<
      Array<{ q: string }>
    >`SELECT to_tsquery('english', ${`${word(40)} & ${word(90)}`})::text AS q`;
    const withSet = await matching(set!.q);
    const bySet = (await rankSplitCandidates(db(), search, set!.q, none, 1_000_000))!;
    const expectedBySet = reference.filter((r) => withSet.has(r.chunkId));
    expect(expectedBySet.length).toBeGreaterThan(0);
    expect(withSet.size).toBeGreaterThan(expectedBySet.length); // some of them are outside the scope
    expectSameRanking(bySet, expectedBySet, `set ${set!.q}`);

    // A cutoff alone: the scope's chunks whose first word weighs at least it.
    const postings = await db().$queryRaw<Array<{ chunkId: string; tf: number; dl: number }>>`
      SELECT "chunkId"::text, tf, dl FROM search_postings WHERE term = ${search.terms[0]}`;
    const inScope = new Set(reference.map((r) => r.chunkId));
    const firstWeight = new Map(
      postings
        .filter((p) => inScope.has(p.chunkId))
        .map((p) => [
          p.chunkId,
          search.weights[0]! * termFrequencyWeight(p.tf, p.dl, search.averageLength),
        ]),
    );
    const cut = [...firstWeight.values()].sort((a, b) => a - b)[
      Math.floor(firstWeight.size * 0.8)
    ]!;
    const byCutoff = (await rankSplitCandidates(
      db(),
      search,
      null,
      [{ weight: cut, impact: 0 }, null, null, null],
      1_000_000,
    ))!;
    const expectedByCutoff = reference.filter((r) => (firstWeight.get(r.chunkId) ?? 0) >= cut);
    expect(expectedByCutoff.length).toBeGreaterThan(0);
    expect(expectedByCutoff.length).toBeLessThan(firstWeight.size);
    expectSameRanking(byCutoff, expectedByCutoff, `cutoff ${cut}`);

    // Both: the union. Past the cap: undefined.
    const both = (await rankSplitCandidates(
      db(),
      { ...search, limit: 10 },
      set!.q,
      [{ weight: cut, impact: 0 }, null, null, null],
      1_000_000,
    ))!;
    const union = reference.filter(
      (r) => withSet.has(r.chunkId) || (firstWeight.get(r.chunkId) ?? 0) >= cut,
    );
    expectSameRanking(both, union.slice(0, 10), 'set and cutoff');
    expect(
      await rankSplitCandidates(
        db(),
        search,
        set!.q,
        [{ weight: cut, impact: 0 }, null, null, null],
        3,
      ),
    ).toBeUndefined();
  });

  it('honours phrases and minus words in every plan', async () => {
    const corpus = await createCorpus(300);
    const agentId = await corpus.agent(['a', 'b']);
    // The phrase plan reads a phrase's adjacent word pairs: one pair alone (its chunks are the
    // matches; with another word, and of one word twice), two, one with a third word after a stop word (both checked on the chunks), none
    // (a stop word between: the GIN index).
    const onePair = [`"${word(0)} ${word(1)}" ${word(2)}`, `"${word(0)} ${word(0)}"`];
    const phrasePairs = new Map([
      [onePair[0]!, 1],
      [onePair[1]!, 1],
      [`"${word(0)} ${word(0)} ${word(1)}"`, 2],
      [`"${word(0)} ${word(0)} the ${word(0)}"`, 1],
      [`"${word(0)} the ${word(1)}"`, 0],
    ]);
    for (const query of [
      ...phrasePairs.keys(),
      `${word(0)} -${word(1)}`,
      `${word(0)} OR ${word(3)} -"${word(2)} ${word(3)}"`,
    ]) {
      const parsed = parseQuery(query);
      const statistics = await selectScopeStatistics(db(), agentId, parsed, null);
      expect(statistics.phrasePairs.length, query).toBe(phrasePairs.get(query) ?? 0);
      expect(statistics.filterIsOnePair, query).toBe(onePair.includes(query));
      const allowed = new Set(
        (
          await db().$queryRaw<Array<{ id: string }>>`
          SELECT id::text FROM chunks WHERE tsv @@ websearch_to_tsquery('english', ${parsed.filterText})`
        ).map((r) => r.id),
      );
      const reference = (await referenceRanking(agentId, parsed.scoringText)).filter((r) =>
        allowed.has(r.chunkId),
      );
      expect(reference.length, query).toBeGreaterThan(0);
      // 'phrase' (the chunks that hold the required phrase: its word pairs, else the GIN index) only where there is one.
      const plans = query.startsWith('"')
        ? (['postings', 'scope', 'phrase', 'floors', 'split', 'threshold', 'pruned'] as const)
        : (['postings', 'scope', 'floors', 'split', 'threshold', 'pruned'] as const);
      for (const plan of plans) {
        const ranking = await rank(agentId, query, 10, plan);
        expectSameRanking(ranking.ranked, reference.slice(0, 10), `${query} ${plan}`);
        expect(ranking.total, `${query} ${plan}`).toBe(reference.length);
        if (plan === 'phrase') expect(ranking.plan).toBe('phrase');
      }
    }
  });
});
