// BM25 over the chunks in an agent's scope: one plan per query, chosen from the corpus
// statistics. Few postings or a small scope: score every match in one statement. A required
// phrase: score the chunks that hold it, found through the GIN index. Two to four words: a lower
// bound of the k-th score from their best postings, then the chunks above a term's floor
// (floors.ts). Otherwise the threshold algorithm reads the best postings of each term until
// the top k is proven.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { idf, weightBoundAfter } from './bm25.js';
import { countMatchesUpTo } from './sql/count-matches.js';
import { rankCandidateChunks, rankFromPostings, rankScopeChunks, type ExhaustiveSearch } from './sql/rank-exhaustively.js';
import type { ScopeStatistics } from './sql/scope-statistics.js';
import { termFloors } from './floors.js';
import { candidateQuery, termSetsReaching } from './pruned-candidates.js';
import { rankAboveFloors } from './sql/rank-above-floors.js';
import { seedThreshold } from './sql/seed-threshold.js';
import { rankByThreshold, type ThresholdResult } from './threshold.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

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
/** Best postings read in all, shared by the terms, for the floors' lower bound of the k-th score. */
const SEED_POSTINGS = 8_192;
const MIN_SEED_DEPTH = 256;
/**
 * Floors for queries of at most this many terms: past it, θ fell far below the terms' largest
 * weights together (7-word questions: the large terms would give up 43–57 % of theirs, 19
 * questions of 20), so the lower bound's statement would be spent for nothing.
 */
const MAX_FLOOR_TERMS = 4;

export type RankingPlan = 'postings' | 'scope' | 'phrase' | 'floors' | 'threshold' | 'pruned';

export interface Ranking {
  ranked: Array<{ chunkId: string; score: number }>;
  total: number;
  totalIsEstimate: boolean;
  plan: RankingPlan;
  /** Postings the threshold algorithm read (its lists and its probes); absent for the other plans. */
  postingsRead?: number;
}

/**
 * `plan` forces a plan (tests compare the plans on one corpus; 'phrase' only applies to a
 * query with a required phrase); by default the cheapest is chosen.
 */
export async function rankChunks(client: Queryable, statistics: ScopeStatistics, limit: number, plan?: RankingPlan): Promise<Ranking> {
  const chunks = Math.max(statistics.chunks, 1);
  const search: ExhaustiveSearch = {
    terms: statistics.terms.map((t) => t.term),
    weights: statistics.terms.map((t) => t.qtf * idf(chunks, Math.min(t.df, chunks))),
    scopeNodeIds: statistics.scopeNodeIds,
    averageLength: statistics.chunks > 0 ? Math.max(statistics.length / statistics.chunks, 1) : 1,
    filter: statistics.filter,
    limit,
  };
  const postings = statistics.terms.reduce((sum, t) => sum + t.taxonomyDf, 0);
  // A required phrase: the threshold algorithm would read on past the many chunks with its
  // words but not the phrase (1.4–2.0 s at 1M chunks where the GIN index takes 150–530 ms).
  const phrase = statistics.filterFindsMatches;
  const floorsApply = search.terms.length > 1 && search.terms.length <= MAX_FLOOR_TERMS;
  const chosen =
    plan ??
    (postings <= EXHAUSTIVE_POSTINGS ? 'postings' : statistics.chunks <= SCOPE_FIRST_CHUNKS ? 'scope' : phrase ? 'phrase' : floorsApply ? 'floors' : 'threshold');
  if (chosen === 'postings') return exhaustive(await rankFromPostings(client, search), 'postings');
  if (chosen === 'scope') return exhaustive(await rankScopeChunks(client, search), 'scope');
  // Every match holds the phrase: the filter finds them all (its count is exact).
  if (chosen === 'phrase' && phrase) return exhaustive(await rankCandidateChunks(client, search, statistics.filter!), 'phrase');
  // Without k chunks among the best postings (a filter that few pass), or with too many
  // postings above the floors, the threshold algorithm, helped by the floors' lower bound.
  let seedTheta = 0;
  if (chosen === 'floors') {
    const floors = await rankByFloors(client, search, statistics);
    if (floors.ranked) return { ranked: floors.ranked, ...(await countMatches(client, search, statistics)), plan: 'floors' };
    seedTheta = floors.theta;
  }

  // Forced 'pruned' (tests): one round of the threshold algorithm, then the pruned candidates.
  let threshold = await rankByThreshold(client, search, chosen === 'pruned' ? 0 : FIRST_THRESHOLD_DEPTH);
  if (chosen === 'pruned' || !threshold.exact) {
    const sets = prunedWordSets(threshold, limit, seedTheta);
    if (chosen === 'pruned' || (sets && expectedCandidates(statistics, sets) <= MAX_PRUNED_CANDIDATES)) {
      return rankPrunedCandidates(client, search, statistics, threshold, sets);
    }
    threshold = await rankByThreshold(client, search, MAX_THRESHOLD_DEPTH);
  }
  if (!threshold.exact) return exhaustive(await rankFromPostings(client, search), 'postings');
  const { postingsRead } = threshold;
  if (threshold.listsExhausted && !search.filter) {
    return { ranked: threshold.ranked, total: threshold.candidates, totalIsEstimate: false, plan: 'threshold', postingsRead };
  }
  return { ranked: threshold.ranked, ...(await countMatches(client, search, statistics)), plan: 'threshold', postingsRead };
}

/**
 * The top k among the chunks above a term's floor, the floors set from a lower bound θ of the
 * k-th score (seed-threshold.ts); no ranking without θ, when the floors would read too far
 * down the lists (floors.ts), or with too many postings above them.
 */
async function rankByFloors(client: Queryable, search: ExhaustiveSearch, statistics: ScopeStatistics) {
  // In a part of the taxonomy every posting read in the scope costs 1 / part read in the
  // index: the square root keeps the subtree agent (a tenth) at 1,300 postings per word where
  // 4,096 took 20–50 ms, and 400 weakened θ (the floors then read deeper: 50–67 ms).
  const part = Math.min(1, statistics.chunks / Math.max(statistics.taxonomyChunks, 1));
  const depth = Math.max(MIN_SEED_DEPTH, Math.floor((SEED_POSTINGS / search.terms.length) * Math.sqrt(part)));
  const seed = await seedThreshold(client, search, depth);
  if (seed.theta <= 0) return { theta: 0 };
  const terms = search.terms.map((_, i) => ({
    weight: search.weights[i]!,
    maxWeight: seed.topImpacts[i]! > 0 ? search.weights[i]! * weightBoundAfter(seed.topImpacts[i]!, search.averageLength) : 0,
    postings: statistics.terms[i]!.df,
  }));
  const floors = termFloors(terms, seed.theta, search.averageLength);
  return { theta: seed.theta, ranked: floors ? await rankAboveFloors(client, search, floors) : undefined };
}

/**
 * The word sets that can still reach the k-th score (the threshold algorithm's, or `theta` when
 * larger: k chunks known to reach it); none without either, or past MAX_TERM_SETS.
 */
function prunedWordSets(threshold: ThresholdResult, limit: number, theta: number): number[][] | undefined {
  const kth = Math.max(threshold.ranked.length >= limit ? threshold.ranked.at(-1)!.score : 0, theta);
  return kth > 0 ? termSetsReaching(threshold.maxWeights, kth) : undefined;
}

/**
 * How many chunks the word sets should match, the words taken as independent: in the whole
 * taxonomy, since the GIN index finds them there before the scope is checked (chunk by chunk).
 */
function expectedCandidates(statistics: ScopeStatistics, sets: number[][]): number {
  const chunks = Math.max(statistics.taxonomyChunks, 1);
  return sets.reduce((sum, set) => sum + set.reduce((n, i) => (n * statistics.terms[i]!.taxonomyDf) / chunks, chunks), 0);
}

/**
 * After an unfinished threshold algorithm: the chunks that can still reach its k-th score,
 * found by the GIN index (pruned-candidates.ts), scored exactly. Without k scores to prune
 * with, or with too many word sets, every match of the scope is scored.
 */
async function rankPrunedCandidates(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  threshold: ThresholdResult,
  sets: number[][] | undefined,
): Promise<Ranking> {
  const { postingsRead } = threshold;
  if (!sets) return { ...exhaustive(await rankScopeChunks(client, search), 'pruned'), postingsRead };
  const ranking = exhaustive(await rankCandidateChunks(client, search, candidateQuery(search.terms, sets)), 'pruned');
  // The pruned candidates are not all the matches: the count comes from countMatches.
  return { ...ranking, ...(await countMatches(client, search, statistics)), postingsRead };
}

function exhaustive(rows: Array<{ chunkId: string; score: number; total: number }>, plan: RankingPlan): Ranking {
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
async function countMatches(client: Queryable, search: ExhaustiveSearch, statistics: ScopeStatistics) {
  const dfs = statistics.terms.map((t) => t.df);
  // With one scope node a chunk counts once in the statistics (under several, once per node).
  if (dfs.length === 1 && !search.filter && search.scopeNodeIds.length === 1) return { total: dfs[0]!, totalIsEstimate: false };
  const chunks = Math.max(statistics.chunks, 1);
  const independent = chunks * (1 - dfs.reduce((none, df) => none * (1 - Math.min(df, chunks) / chunks), 1));
  const estimate = Math.round(Math.min(Math.max(independent, ...dfs), dfs.reduce((a, b) => a + b, 0)));
  if (estimate > EXACT_COUNT_CAP * 4 && !search.filter) return { total: estimate, totalIsEstimate: true };
  const counted = await countMatchesUpTo(client, search, EXACT_COUNT_CAP);
  if (counted <= EXACT_COUNT_CAP) return { total: counted, totalIsEstimate: false };
  return { total: search.filter ? counted : Math.max(estimate, counted), totalIsEstimate: true };
}
