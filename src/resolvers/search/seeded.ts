// Several words: a lower bound θ of the k-th score from the words' best postings
// (sql/seed-threshold.ts), then, for two to four words, the chunks above a word's floor
// (floors.ts, sql/rank-above-floors.ts), else the word sets that can reach θ for the GIN index
// (pruned-candidates.ts). The bound came out closer than the threshold algorithm's first
// round, for less: 15–22 ms against 32–125 ms for 7-word questions at 1M chunks.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { weightBoundAfter } from './bm25.js';
import { termFloors } from './floors.js';
import { termSetsReaching } from './pruned-candidates.js';
import { rankAboveFloors } from './sql/rank-above-floors.js';
import type { ExhaustiveSearch } from './sql/rank-exhaustively.js';
import type { ScopeStatistics } from './sql/scope-statistics.js';
import { seedThreshold } from './sql/seed-threshold.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** Best postings read in all, shared by the words, for the lower bound. */
const SEED_POSTINGS = 8_192;
const MIN_SEED_DEPTH = 256;
/**
 * Floors for queries of at most this many words: past it, θ fell far below the words' largest
 * weights together (7-word questions: the large words would give up 43–57 % of theirs, 19
 * questions of 20), so the word sets go to the GIN index instead.
 */
const MAX_FLOOR_TERMS = 4;

export interface SeededPlan {
  /** A score k chunks of the scope are known to reach; 0 when fewer than k were found. */
  theta: number;
  /** The top k, from the floors. */
  ranked?: Array<{ chunkId: string; score: number }>;
  /** Otherwise the word sets that can reach θ (undefined past MAX_TERM_SETS). */
  sets?: number[][];
}

export async function planFromSeed(client: Queryable, search: ExhaustiveSearch, statistics: ScopeStatistics): Promise<SeededPlan> {
  // In a part of the taxonomy every posting read in the scope costs 1 / part read in the
  // index: the square root keeps the subtree agent (a tenth) at 1,300 postings per word where
  // 4,096 took 20–50 ms, and 400 weakened θ (the floors then read deeper: 50–67 ms).
  const part = Math.min(1, statistics.chunks / Math.max(statistics.taxonomyChunks, 1));
  const depth = Math.max(MIN_SEED_DEPTH, Math.floor((SEED_POSTINGS / search.terms.length) * Math.sqrt(part)));
  const seed = await seedThreshold(client, search, depth);
  if (seed.theta <= 0) return { theta: 0 };
  const maxWeights = search.weights.map((weight, i) => (seed.topImpacts[i]! > 0 ? weight * weightBoundAfter(seed.topImpacts[i]!, search.averageLength) : 0));
  if (search.terms.length <= MAX_FLOOR_TERMS) {
    const terms = search.weights.map((weight, i) => ({ weight, maxWeight: maxWeights[i]!, postings: statistics.terms[i]!.df }));
    const floors = termFloors(terms, seed.theta, search.averageLength);
    const ranked = floors && (await rankAboveFloors(client, search, floors));
    if (ranked) return { theta: seed.theta, ranked };
  }
  return { theta: seed.theta, sets: termSetsReaching(maxWeights, seed.theta) };
}
