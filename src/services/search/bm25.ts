// Okapi BM25 as Lucene computes it (k1 = 1.2, b = 0.75, IDF = ln(1 + (N - df + 0.5) / (df + 0.5))),
// with the corpus statistics of the agent's scope. The same constants are in the migration's
// search_impact(), which orders each term's postings: change both or neither.
export const K1 = 1.2;
export const B = 0.75;
/** The average length search_impact() assumes: a typical chunk (ingest cuts at 1,000 characters) in indexed words. */
export const REFERENCE_LENGTH = 64;

export function idf(chunks: number, df: number): number {
  return Math.log(1 + (chunks - df + 0.5) / (df + 0.5));
}

/** A term's saturated, length-normalised frequency: tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)). */
export function termFrequencyWeight(tf: number, dl: number, averageLength: number): number {
  return (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * dl) / averageLength));
}

/** Term frequencies the bound below considers (tsvector keeps at most 256 positions). */
const MAX_TF = 256;

/**
 * The most a posting read after one of this impact can weigh (termFrequencyWeight) at the
 * scope's average length A. impact = tf / (tf + k1 (1 - b) + k1 b dl / REF) fixes, for each tf,
 * the shortest dl a later posting can have; the weight at that dl is the most that tf can
 * weigh, and the bound is the largest over every tf. Exact when A = REF, and close to the
 * weight of the last posting read for any A.
 */
export function weightBoundAfter(impact: number, averageLength: number): number {
  const kappa = Math.min(impact, 1);
  const rest = (1 - kappa) / kappa;
  let bound = 0;
  for (let tf = 1; tf <= MAX_TF; tf++) {
    const shortest = Math.max(tf, (REFERENCE_LENGTH / (K1 * B)) * (tf * rest - K1 * (1 - B)));
    bound = Math.max(bound, termFrequencyWeight(tf, shortest, averageLength));
  }
  return bound;
}

/**
 * Scores this close count as equal: float4 impacts order postings whose weights differ by less
 * (the threshold algorithm is exact up to such ties).
 */
export const SCORE_TIE = 1e-6;

/** The same as the migration's search_impact(), for tests. */
export function impactOf(tf: number, dl: number): number {
  return tf / (tf + K1 * (1 - B) + (K1 * B * dl) / REFERENCE_LENGTH);
}
