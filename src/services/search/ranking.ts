// BM25 over the chunks in an agent's scope: one ranking plan per query, chosen from the scope's
// statistics. The plans, when each applies, what it reads and why it exists: docs/search.md.
import type { Queryable } from '../../platform/db.js';
import { idf } from './bm25.js';
import { countMatchesUpTo } from './sql/count-matches.js';
import { rankCandidateChunks } from './sql/rank-candidate-chunks.js';
import { rankFromPostings } from './sql/rank-from-postings.js';
import { rankPairPostings } from './sql/rank-pair-postings.js';
import { rankPhraseChunks } from './sql/rank-phrase-chunks.js';
import { rankScopeChunks } from './sql/rank-scope-chunks.js';
import type { ExhaustiveSearch } from './sql/ranking-fragments.js';
import type { ScopeStatistics } from './sql/scope-statistics.js';
import { candidateQuery, termSetsReaching } from './pruned-candidates.js';
import { planFromSeed, type SeededPlan } from './seeded.js';
import { rankByThreshold, type ThresholdResult } from './threshold.js';

/** Up to this many postings of the query terms in the taxonomy, every match is scored. */
export const EXHAUSTIVE_POSTINGS = 20_000;
/** Scopes of up to this many chunks are scored from their chunks. */
export const SCOPE_FIRST_CHUNKS = 5_000;
/** Matches are counted exactly up to this many; past it totalResults is an estimate. */
export const EXACT_COUNT_CAP = 1_000;
/** Postings per term the threshold algorithm reads before the pruned candidates may take over. */
const FIRST_THRESHOLD_DEPTH = 128;
/** Postings per term it reads at most when the pruned candidates would be too many. */
const MAX_THRESHOLD_DEPTH = 32_768;
/** The pruned candidates are used when the statistics expect at most this many. */
const MAX_PRUNED_CANDIDATES = 30_000;

export type RankingPlan =
  'postings' | 'scope' | 'phrase' | 'floors' | 'split' | 'threshold' | 'pruned';
/** What cheapestPlan chooses from: 'split' and 'pruned' are reached from 'floors' and 'threshold'. */
export type ChosenPlan = Exclude<RankingPlan, 'split' | 'pruned'>;

export interface Ranking {
  ranked: Array<{ chunkId: string; score: number }>;
  total: number;
  totalIsEstimate: boolean;
  plan: RankingPlan;
  /** Postings the threshold algorithm read (its lists and its probes); absent for the other plans. */
  postingsRead?: number;
}

/** The query ready to score: each term's weight (qtf × IDF in the scope) and the scope's average length. */
export function searchOf(statistics: ScopeStatistics, limit: number): ExhaustiveSearch {
  const chunks = Math.max(statistics.chunks, 1);
  return {
    terms: statistics.terms.map((t) => t.term),
    weights: statistics.terms.map((t) => t.qtf * idf(chunks, Math.min(t.df, chunks))),
    scopeNodeIds: statistics.scopeNodeIds,
    averageLength: statistics.chunks > 0 ? Math.max(statistics.length / statistics.chunks, 1) : 1,
    filter: statistics.filter,
    limit,
  };
}

/** The top `limit` chunks, ranked by the plan that should read least. */
export function rankChunks(
  client: Queryable,
  statistics: ScopeStatistics,
  limit: number,
): Promise<Ranking> {
  return runPlan(client, searchOf(statistics, limit), statistics, cheapestPlan(statistics));
}

/**
 * One of the plans cheapestPlan chooses ('phrase' applies to a query with a required phrase;
 * otherwise it takes the threshold algorithm). forced-plan.ts runs each for tests.
 */
export async function runPlan(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  plan: ChosenPlan,
): Promise<Ranking> {
  if (plan === 'postings') return exhaustive(await rankFromPostings(client, search), 'postings');
  if (plan === 'scope') return exhaustive(await rankScopeChunks(client, search), 'scope');
  // Every match holds the phrase: its word pairs (or, for a one-word phrase, the filter
  // through the GIN index) find them all, and the count is exact.
  if (plan === 'phrase' && statistics.filterFindsMatches)
    return exhaustive(await rankPhraseMatches(client, search, statistics), 'phrase');
  if (plan === 'floors')
    return rankFromSeed(client, search, statistics, await planFromSeed(client, search, statistics));
  return rankThresholdPlan(client, search, statistics, 0);
}

/**
 * Several words (seeded.ts): the floors or the common-word split ranked them, or the pruned word
 * sets of the seed's bound. Without k chunks among the best postings (a filter few pass), or too
 * many candidates either way, the threshold algorithm, helped by that bound.
 */
export async function rankFromSeed(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  seeded: SeededPlan,
): Promise<Ranking> {
  if (seeded.ranking)
    return { ...seeded.ranking, ...(await countMatches(client, search, statistics)) };
  if (seeded.sets && expectedCandidates(statistics, seeded.sets) <= MAX_PRUNED_CANDIDATES)
    return rankPrunedCandidates(client, search, statistics, undefined, seeded.sets);
  return rankThresholdPlan(client, search, statistics, seeded.theta);
}

/**
 * The threshold algorithm: a first round, then, unless that proved the top k, the pruned
 * candidates of the k-th score it found (or `seedTheta` when larger) when they are few, else
 * deeper rounds; scoring every match from the postings when even those do not prove it.
 */
async function rankThresholdPlan(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  seedTheta: number,
): Promise<Ranking> {
  let threshold = await rankByThreshold(client, search, FIRST_THRESHOLD_DEPTH);
  if (!threshold.exact) {
    const sets = prunedWordSets(threshold, search.limit, seedTheta);
    if (sets && expectedCandidates(statistics, sets) <= MAX_PRUNED_CANDIDATES)
      return rankPrunedCandidates(client, search, statistics, threshold.postingsRead, sets);
    threshold = await rankByThreshold(client, search, MAX_THRESHOLD_DEPTH);
  }
  if (!threshold.exact) return exhaustive(await rankFromPostings(client, search), 'postings');
  const { ranked, postingsRead } = threshold;
  if (threshold.listsExhausted && !search.filter)
    return {
      ranked,
      total: threshold.candidates,
      totalIsEstimate: false,
      plan: 'threshold',
      postingsRead,
    };
  return {
    ranked,
    ...(await countMatches(client, search, statistics)),
    plan: 'threshold',
    postingsRead,
  };
}

/** The plan that should read least, from the statistics alone. */
function cheapestPlan(statistics: ScopeStatistics): ChosenPlan {
  if (statistics.terms.reduce((sum, t) => sum + t.taxonomyDf, 0) <= EXHAUSTIVE_POSTINGS)
    return 'postings';
  // A phrase with word pairs is read from its pairs in any scope, a small one too: the 'scope'
  // statement would read every chunk with the phrase's words through the GIN index.
  if (statistics.filterFindsMatches && statistics.phrasePairs.length > 0) return 'phrase';
  if (statistics.chunks <= SCOPE_FIRST_CHUNKS) return 'scope';
  // A required phrase: the threshold algorithm would read on past the many chunks with its
  // words but not the phrase, where the GIN index finds the chunks that hold them all.
  if (statistics.filterFindsMatches) return 'phrase';
  return statistics.terms.length > 1 ? 'floors' : 'threshold';
}

/**
 * The chunks that pass a filter requiring phrases: a two-word phrase alone is its pair's
 * chunks, scored from the pair index; longer phrases (or more filter) are checked on the chunks
 * holding all their pairs; a phrase without a pair (one word, a stop word between) goes to the
 * GIN index (which keeps no positions: every chunk with the words is read to check them).
 */
function rankPhraseMatches(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
) {
  const pairs = statistics.phrasePairs;
  if (statistics.filterIsOnePair) return rankPairPostings(client, search, pairs[0]!);
  return pairs.length
    ? rankPhraseChunks(client, search, pairs)
    : rankCandidateChunks(client, search, statistics.filter!);
}

/**
 * The word sets that can still reach the k-th score (the threshold algorithm's, or `theta` when
 * larger: k chunks known to reach it); none without either, or past MAX_TERM_SETS.
 */
export function prunedWordSets(
  threshold: ThresholdResult,
  limit: number,
  theta: number,
): number[][] | undefined {
  const kth = Math.max(
    threshold.ranked.length >= limit ? threshold.ranked.at(-1)!.score : 0,
    theta,
  );
  return kth > 0 ? termSetsReaching(threshold.maxWeights, kth) : undefined;
}

/**
 * How many chunks the word sets should match, the words taken as independent: in the whole
 * taxonomy, since the GIN index finds them there before the scope is checked (chunk by chunk).
 */
function expectedCandidates(statistics: ScopeStatistics, sets: number[][]): number {
  const chunks = Math.max(statistics.taxonomyChunks, 1);
  return sets.reduce(
    (sum, set) =>
      sum + set.reduce((n, i) => (n * statistics.terms[i]!.taxonomyDf) / chunks, chunks),
    0,
  );
}

/**
 * After the seed's bound or an unfinished threshold algorithm: the chunks that can still reach
 * the k-th score, found by the GIN index (pruned-candidates.ts), scored exactly. Without a
 * score to prune with, or with too many word sets, every match of the scope is scored.
 */
export async function rankPrunedCandidates(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  postingsRead: number | undefined,
  sets: number[][] | undefined,
): Promise<Ranking> {
  if (!sets)
    return { ...exhaustive(await rankScopeChunks(client, search), 'pruned'), postingsRead };
  const ranking = exhaustive(
    await rankCandidateChunks(client, search, candidateQuery(search.terms, sets)),
    'pruned',
  );
  // The pruned candidates are not all the matches: the count comes from countMatches.
  return { ...ranking, ...(await countMatches(client, search, statistics)), postingsRead };
}

function exhaustive(
  rows: Array<{ chunkId: string; score: number; total: number }>,
  plan: RankingPlan,
): Ranking {
  return {
    ranked: rows.map((row) => ({ chunkId: row.chunkId, score: row.score })),
    total: rows[0]?.total ?? 0,
    totalIsEstimate: false,
    plan,
  };
}

/**
 * The number of matches: from the statistics for one term, no filter and one scope node; counted when the
 * statistics say it may be at most the cap; else the chance that a chunk has any of the
 * terms, taken as independent, times the scope's chunks.
 */
async function countMatches(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
) {
  const dfs = statistics.terms.map((t) => t.df);
  // With one scope node a chunk counts once in the statistics (under several, once per node).
  if (dfs.length === 1 && !search.filter && search.scopeNodeIds.length === 1)
    return { total: dfs[0]!, totalIsEstimate: false };
  const chunks = Math.max(statistics.chunks, 1);
  const independent =
    chunks * (1 - dfs.reduce((none, df) => none * (1 - Math.min(df, chunks) / chunks), 1));
  const estimate = Math.round(
    Math.min(
      Math.max(independent, ...dfs),
      dfs.reduce((a, b) => a + b, 0),
    ),
  );
  if (estimate > EXACT_COUNT_CAP * 4 && !search.filter)
    return { total: estimate, totalIsEstimate: true };
  const counted = await countMatchesUpTo(client, search, EXACT_COUNT_CAP);
  if (counted <= EXACT_COUNT_CAP) return { total: counted, totalIsEstimate: false };
  return { total: search.filter ? counted : Math.max(estimate, counted), totalIsEstimate: true };
}
