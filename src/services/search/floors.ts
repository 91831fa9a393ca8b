// Term floors for several words (the threshold algorithm's stop rule, set-based): once k chunks
// are known to score at least θ, give each term t a floor s_t with Σ s_t = θ. A chunk below
// every floor scores less than θ, so the top k lie among the postings above a floor, which the
// impact order finds as index ranges (sql/rank-above-floors.ts scores them exactly).
// The floors share out the slack Σ(largest weights) − θ: a small term (few postings) gives up
// all of its weight (every posting of it is read); the large terms give up the rest in
// proportion to their largest weights, so each is read only near its top: for two common
// words, a small part of each word's list instead of all of it.
import { SCORE_TIE, weightBoundAfter } from './bm25.js';

/** A term with at most this many postings in the scope is read whole. */
export const SMALL_TERM_POSTINGS = 1_000;
/** The most the large terms give up, as a part of their largest weights together. */
export const MAX_LARGE_SHARE = 0.3;
/** Halvings of the impact interval: far below float4's precision. */
const BISECTIONS = 40;
/** Impacts are float4: a floor this much lower keeps every posting whose exact impact reaches it. */
const FLOAT4_MARGIN = 1e-6;
/** Rounding between this process and PostgreSQL must not drop a posting exactly at its floor. */
export const WEIGHT_MARGIN = 1e-9;

export interface TermFloor {
  /** The least weight (qtf × idf × saturated frequency) a posting needs to be read. */
  weight: number;
  /** The least impact such a posting can have (the index range to read). */
  impact: number;
}

/**
 * The smallest impact whose postings can reach `frequencyWeight` (BM25's saturated frequency,
 * before the IDF) at this average length: weightBoundAfter() is non-decreasing in the impact.
 */
export function impactFloor(frequencyWeight: number, averageLength: number): number {
  if (frequencyWeight <= 0) return 0;
  if (weightBoundAfter(1, averageLength) < frequencyWeight) return Infinity;
  let low = 0;
  let high = 1;
  for (let i = 0; i < BISECTIONS; i++) {
    const middle = (low + high) / 2;
    if (weightBoundAfter(middle, averageLength) >= frequencyWeight) high = middle;
    else low = middle;
  }
  return low * (1 - FLOAT4_MARGIN);
}

/** The floor of a term of weight `termWeight` (qtf × idf) at `weight`. */
export function floorAt(weight: number, termWeight: number, averageLength: number): TermFloor {
  return { weight, impact: impactFloor(weight / termWeight, averageLength) };
}

export interface FloorTerm {
  /** qtf × idf. */
  weight: number;
  /** The most the term adds to a chunk of the scope. */
  maxWeight: number;
  /** Its postings in the scope. */
  postings: number;
}

/**
 * Per term its floor, or null for a term that can leave no chunk above θ on its own share;
 * undefined when the large terms would give up more than MAX_LARGE_SHARE of their weights
 * (their lists would be read far down, as for long questions).
 */
export function termFloors(
  terms: readonly FloorTerm[],
  theta: number,
  averageLength: number,
  maxShare = MAX_LARGE_SHARE,
): Array<TermFloor | null> | undefined {
  const target = theta * (1 - SCORE_TIE);
  const small = (t: FloorTerm) => t.postings <= SMALL_TERM_POSTINGS;
  const slack = terms.reduce((sum, t) => sum + t.maxWeight, 0) - target;
  const largeSlack = slack - terms.filter(small).reduce((sum, t) => sum + t.maxWeight, 0);
  const largeMax = terms.filter((t) => !small(t)).reduce((sum, t) => sum + t.maxWeight, 0);
  if (largeSlack > maxShare * largeMax) return undefined;
  return terms.map((t) => {
    if (t.maxWeight <= 0 || t.weight <= 0) return null;
    const share = small(t)
      ? 0
      : largeSlack <= 0
        ? t.maxWeight
        : t.maxWeight - (largeSlack * t.maxWeight) / largeMax;
    // A large term that gives up none of its weight brings no chunk the small terms do not.
    if (largeSlack <= 0 && !small(t)) return null;
    return floorAt(Math.max(share, 0), t.weight, averageLength);
  });
}
