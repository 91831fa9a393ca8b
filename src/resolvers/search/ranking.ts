// BM25 over the chunks in an agent's scope: one plan per query, chosen from the corpus
// statistics. Few postings or a small scope: score every match in one statement. Otherwise
// the threshold algorithm reads the best postings of each term until the top k is proven.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { idf } from './bm25.js';
import { countMatchesUpTo } from './sql/count-matches.js';
import { rankFromPostings, rankScopeChunks, type ExhaustiveSearch } from './sql/rank-exhaustively.js';
import type { ScopeStatistics } from './sql/scope-statistics.js';
import { rankByThreshold } from './threshold.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** Up to this many postings of the query terms in the taxonomy, every match is scored. */
export const EXHAUSTIVE_POSTINGS = 20_000;
/** Scopes of up to this many chunks are scored from their chunks. */
export const SCOPE_FIRST_CHUNKS = 5_000;
/** Matches are counted exactly up to this many; past it totalResults is an estimate. */
export const EXACT_COUNT_CAP = 1_000;
/** Postings per term the threshold algorithm reads before it scores every match instead. */
const MAX_THRESHOLD_DEPTH = 32_768;

export type RankingPlan = 'postings' | 'scope' | 'threshold';

export interface Ranking {
  ranked: Array<{ chunkId: string; score: number }>;
  total: number;
  totalIsEstimate: boolean;
  plan: RankingPlan;
  /** Postings the threshold algorithm read (its lists and its probes); absent for the other plans. */
  postingsRead?: number;
}

/** `plan` forces a plan (tests compare the plans on one corpus); by default the cheapest is chosen. */
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
  const chosen = plan ?? (postings <= EXHAUSTIVE_POSTINGS ? 'postings' : statistics.chunks <= SCOPE_FIRST_CHUNKS ? 'scope' : 'threshold');
  if (chosen === 'postings') return exhaustive(await rankFromPostings(client, search), 'postings');
  if (chosen === 'scope') return exhaustive(await rankScopeChunks(client, search), 'scope');

  const threshold = await rankByThreshold(client, search, MAX_THRESHOLD_DEPTH);
  if (!threshold.exact) return exhaustive(await rankFromPostings(client, search), 'postings');
  const postingsRead = threshold.postingsRead + threshold.probes;
  if (threshold.listsExhausted && !search.filter) {
    return { ranked: threshold.ranked, total: threshold.candidates, totalIsEstimate: false, plan: 'threshold', postingsRead };
  }
  return { ranked: threshold.ranked, ...(await countMatches(client, search, statistics)), plan: 'threshold', postingsRead };
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
