// For tests and benchmarks: rank with a forced plan, to compare every plan on one corpus.
// Production ranks through rankChunks (ranking.ts), which picks the plan from the statistics
// and reaches 'split' and 'pruned' only from another plan; forced here, the common-word split
// runs in any scope, and the pruned candidates follow the threshold algorithm's first round.
import type { Queryable } from '../../platform/db.js';
import {
  prunedWordSets,
  rankFromSeed,
  rankPrunedCandidates,
  runPlan,
  searchOf,
  type Ranking,
  type RankingPlan,
} from './ranking.js';
import { planFromBound, seedBound, type SeededPlan } from './seeded.js';
import type { ExhaustiveSearch } from './sql/ranking-fragments.js';
import type { ScopeStatistics } from './sql/scope-statistics.js';
import { rankByThreshold } from './threshold.js';

/** The top `limit` chunks by `plan` ('phrase' applies to a query with a required phrase). */
export async function rankChunksWithPlan(
  client: Queryable,
  statistics: ScopeStatistics,
  limit: number,
  plan: RankingPlan,
): Promise<Ranking> {
  const search = searchOf(statistics, limit);
  if (plan === 'split') {
    const seeded = await planSplittingAnyScope(client, search, statistics);
    return rankFromSeed(client, search, statistics, seeded);
  }
  if (plan === 'pruned') {
    const threshold = await rankByThreshold(client, search, 0);
    const sets = prunedWordSets(threshold, limit, 0);
    return rankPrunedCandidates(client, search, statistics, threshold.postingsRead, sets);
  }
  return runPlan(client, search, statistics, plan);
}

/** planFromSeed with the common-word split allowed whatever part of the taxonomy the scope is. */
async function planSplittingAnyScope(
  client: Queryable,
  search: ExhaustiveSearch,
  statistics: ScopeStatistics,
): Promise<SeededPlan> {
  const bound = await seedBound(client, search, statistics);
  return bound ? planFromBound(client, search, statistics, bound, true) : { theta: 0 };
}
