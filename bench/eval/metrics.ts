// The usual retrieval measures over a ranked list of document ids and graded judgements
// (trec_eval's definitions: a document is relevant when its gain is above 0).
export type Judged = Map<string, number>;

export function ndcgAt(k: number, ranked: readonly string[], judged: Judged): number {
  const dcg = (gains: number[]) =>
    gains.reduce((sum, gain, i) => sum + (2 ** gain - 1) / Math.log2(i + 2), 0);
  const ideal = dcg([...judged.values()].sort((a, b) => b - a).slice(0, k));
  return ideal === 0 ? 0 : dcg(ranked.slice(0, k).map((id) => judged.get(id) ?? 0)) / ideal;
}

export function precisionAt(k: number, ranked: readonly string[], judged: Judged): number {
  return ranked.slice(0, k).filter((id) => (judged.get(id) ?? 0) > 0).length / k;
}

/** Average precision of the top k, over all the query's relevant documents (trec_eval map_cut). */
export function averagePrecisionAt(k: number, ranked: readonly string[], judged: Judged): number {
  const relevant = [...judged.values()].filter((gain) => gain > 0).length;
  if (relevant === 0) return 0;
  let hits = 0;
  let sum = 0;
  ranked.slice(0, k).forEach((id, i) => {
    if ((judged.get(id) ?? 0) > 0) sum += ++hits / (i + 1);
  });
  return sum / relevant;
}

export function hitAt(k: number, ranked: readonly string[], judged: Judged): number {
  return ranked.slice(0, k).some((id) => (judged.get(id) ?? 0) > 0) ? 1 : 0;
}

export interface Scores {
  ndcg10: number;
  p10: number;
  map100: number;
  hit3: number;
}

export function meanScores(runs: Array<{ ranked: readonly string[]; judged: Judged }>): Scores {
  const mean = (f: (ranked: readonly string[], judged: Judged) => number) =>
    runs.reduce((sum, run) => sum + f(run.ranked, run.judged), 0) / runs.length;
  return {
    ndcg10: mean((r, j) => ndcgAt(10, r, j)),
    p10: mean((r, j) => precisionAt(10, r, j)),
    map100: mean((r, j) => averagePrecisionAt(100, r, j)),
    hit3: mean((r, j) => hitAt(3, r, j)),
  };
}
