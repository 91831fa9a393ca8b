// Several words: a lower bound θ of the k-th score from the words' best postings, then the
// floors, the common-word split or the pruned word sets (the 'floors' row of docs/search.md).
import type { Queryable } from '../../platform/db.js';
import { weightBoundAfter } from './bm25.js';
import { splitCommonWords } from './common-words.js';
import { floorAt, termFloors } from './floors.js';
import { candidateQuery, termSetsReaching } from './pruned-candidates.js';
import { rankAboveFloors } from './sql/rank-above-floors.js';
import { rankSplitCandidates } from './sql/rank-split-candidates.js';
import type { ExhaustiveSearch } from './sql/ranking-fragments.js';
import type { ScopeStatistics } from './sql/scope-statistics.js';
import { seedThreshold } from './sql/seed-threshold.js';

/** Best postings read in all, shared by the words, for the lower bound. */
const SEED_POSTINGS = 8_192;
const MIN_SEED_DEPTH = 256;
/**
 * Floors for queries of at most this many words: past it, θ falls far below the words' largest
 * weights together (the large words would give up much of theirs, for most questions), so the
 * word sets go to the GIN index instead.
 */
const MAX_FLOOR_TERMS = 4;
/**
 * The common-word split in scopes of at most this part of the taxonomy: its reads grow with
 * the scope, the pruned sets' GIN scan works in the whole taxonomy. In a subtree it beat the
 * pruned sets; at the root it found more candidates than it may score (bench/README.md).
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

/** More postings above the floors than this: the floors give way (each costs a probe per term). */
const MAX_FLOOR_POSTINGS = 12_000;
/** More candidates than this: the split gives way (each is a chunk read and scored). */
const MAX_SPLIT_CANDIDATES = 8_000;

/** The seed's bound: θ, each word's largest weight in the scope, and the scope's share. */
export interface SeedBound {
  theta: number;
  maxWeights: number[];
  /** The scope's part of the taxonomy's chunks (1 at the root). */
  part: number;
}

/** The floors, for questions in a part of the taxonomy the split, else the word sets. */
export async function planFromSeed(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
): Promise<SeededPlan> {
  const bound = await seedBound(client, search, statistics);
  if (!bound) return { theta: 0 };
  return planFromBound(client, search, statistics, bound, bound.part <= MAX_SPLIT_PART);
}

/** θ from the words' best postings, or undefined when fewer than k chunks were found. */
export async function seedBound(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
): Promise<SeedBound | undefined> {
  // In a part of the taxonomy every posting read in the scope costs 1 / part read in the
  // index: the square root keeps the seed's reads in a subtree small without weakening θ.
  const part = Math.min(1, statistics.chunks / Math.max(statistics.taxonomyChunks, 1));
  const depth = Math.max(
    MIN_SEED_DEPTH,
    Math.floor((SEED_POSTINGS / search.terms.length) * Math.sqrt(part)),
  );
  const seed = await seedThreshold(client, search, depth);
  if (seed.theta <= 0) return undefined;
  const maxWeights = search.weights.map((weight, i) =>
    seed.topImpacts[i]! > 0
      ? weight * weightBoundAfter(seed.topImpacts[i]!, search.averageLength)
      : 0,
  );
  return { theta: seed.theta, maxWeights, part };
}

/**
 * From the bound: the chunks above a word's floor (two to four words), then the common-word
 * split where `splitMayRun` (the caller's choice of scopes), else the word sets that reach θ.
 */
export async function planFromBound(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
  bound: SeedBound,
  splitMayRun: boolean,
): Promise<SeededPlan> {
  const { theta, maxWeights } = bound;
  if (search.terms.length <= MAX_FLOOR_TERMS) {
    const terms = search.weights.map((weight, i) => ({
      weight,
      maxWeight: maxWeights[i]!,
      postings: statistics.terms[i]!.df,
    }));
    const floors = termFloors(terms, theta, search.averageLength);
    const ranked = floors && (await rankAboveFloors(client, search, floors, MAX_FLOOR_POSTINGS));
    if (ranked) return { theta, ranking: { plan: 'floors', ranked } };
  }
  const shares = statistics.terms.map((t) => t.taxonomyDf / Math.max(statistics.taxonomyChunks, 1));
  const split = splitMayRun && splitCommonWords(maxWeights, shares, theta);
  if (split) {
    const cutoffs = split.cutoffs.map((weight, i) =>
      weight === null ? null : floorAt(weight, search.weights[i]!, search.averageLength),
    );
    const sets = split.sets.length ? candidateQuery(search.terms, split.sets) : null;
    const ranked = await rankSplitCandidates(client, search, sets, cutoffs, MAX_SPLIT_CANDIDATES);
    if (ranked) return { theta, ranking: { plan: 'split', ranked } };
  }
  return { theta, sets: termSetsReaching(maxWeights, theta) };
}
