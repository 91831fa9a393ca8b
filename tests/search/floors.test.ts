// The floors' arithmetic (floors.ts): they add up to θ, a small word is read whole, the
// impact floor keeps every posting that can reach its weight, and deep floors are refused.
import { describe, expect, it } from 'vitest';
import { impactOf, SCORE_TIE, termFrequencyWeight } from '../../src/services/search/bm25.js';
import {
  impactFloor,
  MAX_LARGE_SHARE,
  SMALL_TERM_POSTINGS,
  termFloors,
} from '../../src/services/search/floors.js';

describe('term floors', () => {
  it('keep every posting whose weight reaches the floor, at any average length', () => {
    for (const averageLength of [20, 41.8, 64, 150]) {
      for (const target of [0.4, 0.9, 1.3, 1.7, 2.0]) {
        const floor = impactFloor(target, averageLength);
        for (let tf = 1; tf <= 12; tf++) {
          for (let dl = tf; dl <= 400; dl += 3) {
            if (termFrequencyWeight(tf, dl, averageLength) >= target)
              expect(
                Math.fround(impactOf(tf, dl)),
                `${tf} ${dl} ${averageLength} ${target}`,
              ).toBeGreaterThanOrEqual(floor);
          }
        }
      }
    }
    expect(impactFloor(0, 64)).toBe(0);
    expect(impactFloor(2.3, 64)).toBe(Infinity); // above k1 + 1: no posting weighs that much
  });

  it('add up to θ: small words read whole, the large ones in proportion to their largest weights', () => {
    const terms = [
      { weight: 1, maxWeight: 2, postings: 300_000 },
      { weight: 1.2, maxWeight: 2.4, postings: 250_000 },
      { weight: 0.4, maxWeight: 0.5, postings: SMALL_TERM_POSTINGS },
    ];
    // Σ largest weights 4.9: the small word gives up its 0.5, the large ones share the other 0.2.
    const theta = 4.2;
    const floors = termFloors(terms, theta, 64)!;
    expect(floors[2]).toEqual({ weight: 0, impact: 0 });
    const sum = floors.reduce((total, floor) => total + floor!.weight, 0);
    expect(sum).toBeCloseTo(theta * (1 - SCORE_TIE), 9);
    // Each large word gives up the same part of its largest weight.
    expect(floors[0]!.weight / 2).toBeCloseTo(floors[1]!.weight / 2.4, 12);
  });

  it('leave the large words out when the small ones cover the slack, and refuse deep floors', () => {
    const large = { weight: 1, maxWeight: 2, postings: 300_000 };
    const small = { weight: 8, maxWeight: 10, postings: 200 };
    // Σ max 14, θ 11.5: the small word's 10 covers the slack of 2.5; a chunk without it scores at most 4.
    expect(termFloors([large, large, small], 11.5, 64)).toEqual([
      null,
      null,
      { weight: 0, impact: 0 },
    ]);
    // Two large words, θ at 60 % of their largest weights: each would be read down to 60 % of it.
    expect(termFloors([large, large], 4 * (1 - MAX_LARGE_SHARE) - 0.4, 64)).toBeUndefined();
    expect(termFloors([large, large], 4 * (1 - MAX_LARGE_SHARE) + 0.1, 64)).toBeDefined();
  });
});
