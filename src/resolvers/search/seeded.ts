// Several words: a lower bound θ of the k-th score from the words' best postings
// (sql/seed-threshold.ts), then, for two to four words, the chunks above a word's floor
// (floors.ts, sql/rank-above-floors.ts), else, in a part of the taxonomy, the common-word split
// (common-words.ts), else the word sets that can reach θ for the GIN index
// (pruned-candidates.ts). The bound came out closer than the threshold algorithm's first
// round, for less: 15–22 ms against 32–125 ms for 7-word questions at 1M chunks.
import type { PrismaClient } from '../../generated/prisma/client.js';
import { weightBoundAfter } from './bm25.js';
import { splitCommonWords } from './common-words.js';
import { floorAt, termFloors } from './floors.js';
import { candidateQuery, termSetsReaching } from './pruned-candidates.js';
import { rankAboveFloors } from './sql/rank-above-floors.js';
import { rankSplitCandidates } from './sql/rank-split-candidates.js';
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
/**
 * The common-word split in scopes of at most this part of the taxonomy: its reads grow with
 * the scope, the pruned sets' GIN scan works in the whole taxonomy. For the 20 bench questions
 * (statement times, median of 3) the split took 947 ms in all against 1,233 in a subtree (a
 * tenth of 1M chunks), worst 72 against 110 ms; at the root it found more candidates than it
 * may score for most of them.
 */
const MAX_SPLIT_PART = 0.25;

export interface SeededPlan {
  /** A score k chunks of the scope are known to reach; 0 when fewer than k were found. */
  theta: number;
  /** The top k, and which of the floors or the common-word split ranked them. */
  ranking?: { plan: 'floors' | 'split'; ranked: Array<{ chunkId: string; score: number }> };
  /** Otherwise the word sets that can reach θ (undefined past MAX_TERM_SETS). */
  sets?: number[][];
}

/** `preferSplit` takes the common-word split whenever it applies (tests force each plan). */
export async function planFromSeed(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  preferSplit = false,
): Promise<SeededPlan> {
  // In a part of the taxonomy every posting read in the scope costs 1 / part read in the
  // index: the square root keeps the subtree agent (a tenth) at 1,300 postings per word where
  // 4,096 took 20–50 ms, and 400 weakened θ (the floors then read deeper: 50–67 ms).
  const part = Math.min(1, statistics.chunks / Math.max(statistics.taxonomyChunks, 1));
  const depth = Math.max(
    MIN_SEED_DEPTH,
    Math.floor((SEED_POSTINGS / search.terms.length) * Math.sqrt(part)),
  );
  const seed = await seedThreshold(client, search, depth);
  if (seed.theta <= 0) return { theta: 0 };
  const maxWeights = search.weights.map((weight, i) =>
    seed.topImpacts[i]! > 0
      ? weight * weightBoundAfter(seed.topImpacts[i]!, search.averageLength)
      : 0,
  );
  if (search.terms.length <= MAX_FLOOR_TERMS) {
    const terms = search.weights.map((weight, i) => ({
      weight,
      maxWeight: maxWeights[i]!,
      postings: statistics.terms[i]!.df,
    }));
    const floors = termFloors(terms, seed.theta, search.averageLength);
    const ranked = floors && (await rankAboveFloors(client, search, floors));
    if (ranked) return { theta: seed.theta, ranking: { plan: 'floors', ranked } };
  }
  const shares = statistics.terms.map((t) => t.taxonomyDf / Math.max(statistics.taxonomyChunks, 1));
  const split =
    (preferSplit || part <= MAX_SPLIT_PART) && splitCommonWords(maxWeights, shares, seed.theta);
  if (split) {
    const cutoffs = split.cutoffs.map((weight, i) =>
      weight === null ? null : floorAt(weight, search.weights[i]!, search.averageLength),
    );
    const ranked = await rankSplitCandidates(
      client,
      search,
      split.sets.length ? candidateQuery(search.terms, split.sets) : null,
      cutoffs,
    );
    if (ranked) return { theta: seed.theta, ranking: { plan: 'split', ranked } };
  }
  return { theta: seed.theta, sets: termSetsReaching(maxWeights, seed.theta) };
}
