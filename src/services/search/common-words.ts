// Questions mix a few rare words with common ones. When the common words' largest weights
// together fall short of θ (MaxScore's non-essential terms), every chunk that reaches θ either
// holds a set of the other words that can reach θ on its own (found by the GIN index from the
// other words' short lists), or gets at least θ less the common words' largest weights from
// the other words it holds, which no set of them can reach: then one of those words weighs at
// least its share of that rest (found as an index range of its impact-ordered postings). The
// GIN index never reads a common word's list, which is most of the pruned word sets' cost.
import { SCORE_TIE } from './bm25.js';
import { termSetsReaching } from './pruned-candidates.js';

/** A word in more than this part of the taxonomy's chunks counts as common. */
export const COMMON_SHARE = 0.05;
/** Other words past this many: the subsets below are not enumerated. */
const MAX_OTHER_TERMS = 12;

export interface CommonWordsSplit {
  /** Sets of the other words that reach θ on their own (tsquery conjunctions for the GIN index). */
  sets: number[][];
  /** Per term, the least weight whose postings are candidates, or null for none. */
  cutoffs: Array<number | null>;
}

/**
 * The split for these terms, or undefined when it does not apply: no common word, the common
 * words able to reach θ together, or too many other words or sets. `taxonomyShare` is each
 * term's part of the taxonomy's chunks.
 */
export function splitCommonWords(
  maxWeights: readonly number[],
  taxonomyShare: readonly number[],
  theta: number,
): CommonWordsSplit | undefined {
  const target = theta * (1 - SCORE_TIE);
  // The most frequent words first, while their largest weights stay short of θ together.
  const byShare = maxWeights.map((_, i) => i).sort((a, b) => taxonomyShare[b]! - taxonomyShare[a]!);
  const common = new Set<number>();
  let commonMax = 0;
  for (const i of byShare) {
    if (taxonomyShare[i]! <= COMMON_SHARE || commonMax + maxWeights[i]! >= target) break;
    common.add(i);
    commonMax += maxWeights[i]!;
  }
  const rest = target - commonMax;
  const others = maxWeights
    .map((weight, i) => ({ weight, i }))
    .filter((t) => !common.has(t.i) && t.weight > 0);
  if (common.size === 0 || others.length > MAX_OTHER_TERMS) return undefined;

  const sets = termSetsReaching(
    maxWeights.map((weight, i) => (common.has(i) ? 0 : weight)),
    theta,
  );
  if (!sets) return undefined;

  // Every largest subset of the other words that cannot reach θ shares out `rest` over its
  // words in proportion to their largest weights; a word's cutoff is its least share.
  const cutoffs: Array<number | null> = maxWeights.map(() => null);
  const reaches = (mask: number) =>
    others.reduce((sum, t, b) => (mask & (1 << b) ? sum + t.weight : sum), 0) >= target;
  for (let mask = 1; mask < 1 << others.length; mask++) {
    if (reaches(mask)) continue;
    const largest = others.every((_, b) => mask & (1 << b) || reaches(mask | (1 << b)));
    if (!largest) continue;
    const members = others.filter((_, b) => mask & (1 << b));
    const total = members.reduce((sum, t) => sum + t.weight, 0);
    for (const t of members) {
      const share = (rest * t.weight) / total;
      cutoffs[t.i] = Math.min(cutoffs[t.i] ?? Infinity, share);
    }
  }
  return { sets, cutoffs };
}
