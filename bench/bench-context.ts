// What the corpus benchmarks (index.ts runs them) are given.
import type { Corpus } from './corpus.js';

export interface BenchContext {
  corpus: Corpus;
  url: string;
  /** Print EXPLAIN (ANALYZE, BUFFERS) even when the target is met. */
  alwaysExplain: boolean;
}
