// The common-word split (common-words.ts): every chunk that can reach θ must be a candidate,
// either through one of the other words' sets or through a posting above its word's cutoff.
// Checked against every chunk a brute force can build: each word absent or at one of a few
// weights up to its largest.
import { describe, expect, it } from 'vitest';
import { COMMON_SHARE, splitCommonWords } from '../../src/services/search/common-words.js';

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number) {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** Every weight vector with each word absent (0) or at one of `levels` fractions of its largest weight. */
function* chunks(maxWeights: number[], levels: number[]): Generator<number[]> {
  const options = [0, ...levels];
  const count = options.length ** maxWeights.length;
  for (let code = 0; code < count; code++) {
    let rest = code;
    yield maxWeights.map((max) => {
      const level = options[rest % options.length]!;
      rest = Math.floor(rest / options.length);
      return level * max;
    });
  }
}

describe('common-word split', () => {
  it('makes every chunk that reaches θ a candidate (brute force over 150 random queries)', () => {
    const next = random(7);
    const levels = [0.2, 0.5, 0.8, 0.95, 1];
    let applied = 0;
    let cutCandidates = 0;
    const missed: string[] = [];
    for (let query = 0; query < 150; query++) {
      const terms = 3 + Math.floor(next() * 4);
      // Common words: light and frequent; the others heavier and rarer.
      const common = Array.from({ length: terms }, () => next() < 0.5);
      const maxWeights = common.map((c) => (c ? 0.5 + next() * 2.5 : 3 + next() * 7));
      const shares = common.map((c) =>
        c ? COMMON_SHARE + 0.01 + next() * 0.4 : next() * COMMON_SHARE,
      );
      const sum = maxWeights.reduce((a, b) => a + b, 0);
      const theta = sum * (0.25 + next() * 0.6);
      const split = splitCommonWords(maxWeights, shares, theta);
      if (!split) continue;
      applied++;
      for (const weights of chunks(maxWeights, levels)) {
        const score = weights.reduce((a, b) => a + b, 0);
        if (score < theta) continue;
        const bySet = split.sets.some((set) => set.every((i) => weights[i]! > 0));
        const byCutoff = split.cutoffs.some(
          (cutoff, i) => cutoff !== null && weights[i]! > 0 && weights[i]! >= cutoff,
        );
        if (byCutoff && !bySet) cutCandidates++;
        if (!bySet && !byCutoff && missed.length < 3)
          missed.push(JSON.stringify({ query, maxWeights, shares, theta, split, weights }));
      }
    }
    expect(missed).toEqual([]);
    // The split applied to most queries, and the cutoffs found chunks no set did.
    expect(applied).toBeGreaterThan(50);
    expect(cutCandidates).toBeGreaterThan(0);
  });

  it("cuts a lone rarer word at θ less the common words' largest weights", () => {
    // Two common words (largest weights 2 and 1.5) and three rarer ones, any two of which reach θ = 9.
    const split = splitCommonWords([2, 1.5, 6, 5.5, 5], [0.3, 0.2, 0.01, 0.02, 0.001], 9)!;
    expect(split.sets.map((set) => [...set].sort())).toEqual([
      [2, 3],
      [2, 4],
      [3, 4],
    ]);
    const rest = 9 * (1 - 1e-6) - 3.5;
    expect(split.cutoffs[0]).toBeNull();
    expect(split.cutoffs[1]).toBeNull();
    for (const i of [2, 3, 4]) expect(split.cutoffs[i]).toBeCloseTo(rest, 9);
  });

  it('does not apply without a common word, or when the common words can reach θ together', () => {
    expect(splitCommonWords([6, 5, 4], [0.01, 0.02, 0.03], 8)).toBeUndefined();
    // Both words are common, and together they reach θ: the second is kept as an other word.
    const split = splitCommonWords([3, 3], [0.3, 0.2], 5)!;
    expect(split.sets).toEqual([]);
    expect(split.cutoffs).toEqual([null, expect.closeTo(5 * (1 - 1e-6) - 3, 9)]);
  });
});
