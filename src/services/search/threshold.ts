// The threshold algorithm (Fagin, Lotem & Naor 2001) over impact-ordered postings, exact: each
// round reads deeper until no unread chunk can beat the k-th score (docs/search.md).
import type { Queryable } from '../../platform/db.js';
import { SCORE_TIE, termFrequencyWeight, weightBoundAfter } from './bm25.js';
import { chunksPassingFilter } from './sql/chunks-passing-filter.js';
import { probePostings } from './sql/probe-postings.js';
import type { ExhaustiveSearch as ThresholdSearch } from './sql/ranking-fragments.js';
import { readPostings, type ListRead } from './sql/read-postings.js';

interface Candidate {
  chunkId: string;
  /** Weight per term, once known (read in a list or probed). */
  known: Array<number | undefined>;
  passesFilter?: boolean;
}

interface ListState {
  read: number;
  /** The impact of the list's first posting: no posting of the term weighs more. */
  first?: number;
  last?: { impact: number; chunkId: string };
  exhausted: boolean;
}

export interface ThresholdResult {
  ranked: Array<{ chunkId: string; score: number }>;
  /** Postings read from the lists and by probes: the work done. */
  postingsRead: number;
  /** False when the depth limit was reached before the ranking was proven exact. */
  exact: boolean;
  /** True when every list was read to its end: the candidates are all the matches. */
  listsExhausted: boolean;
  /** Matches seen (exact count when listsExhausted and there is no filter). */
  candidates: number;
  /** Per term, the most it can add to any chunk's score (0 for a term with no postings in the scope). */
  maxWeights: number[];
}

const FIRST_DEPTH = 32;
const PROBE_BATCH = 500;

export async function rankByThreshold(
  client: Queryable,
  search: ThresholdSearch,
  maxDepth: number,
): Promise<ThresholdResult> {
  const run = new ThresholdRun(client, search);
  for (let depth = Math.max(FIRST_DEPTH, search.limit * 2); ; depth *= 4) {
    await run.readTo(depth);
    const ranked = await run.resolve();
    const done = run.provenExact(ranked);
    if (done || depth >= maxDepth) return run.result(ranked, done);
  }
}

class ThresholdRun {
  private readonly lists: ListState[];
  private readonly candidates = new Map<string, Candidate>();
  private readonly rejected = new Set<string>();
  postingsRead = 0;

  constructor(
    private readonly client: Queryable,
    private readonly search: ThresholdSearch,
  ) {
    this.lists = search.terms.map(() => ({ read: 0, exhausted: false }));
  }

  /** Reads every unfinished list down to `depth` postings. */
  async readTo(depth: number): Promise<void> {
    const reads: ListRead[] = [];
    this.lists.forEach((list, termIndex) => {
      if (!list.exhausted)
        reads.push({
          termIndex,
          term: this.search.terms[termIndex]!,
          limit: depth - list.read,
          after: list.last,
        });
    });
    if (reads.length === 0) return;
    const rows = await readPostings(this.client, this.search.scopeNodeIds, reads);
    this.postingsRead += rows.length;
    const counts = new Map<number, number>();
    for (const row of rows) {
      const list = this.lists[row.termIndex]!;
      list.read++;
      list.first ??= row.impact;
      list.last = { impact: row.impact, chunkId: row.chunkId };
      counts.set(row.termIndex, (counts.get(row.termIndex) ?? 0) + 1);
      if (this.rejected.has(row.chunkId)) continue;
      this.candidate(row.chunkId).known[row.termIndex] = this.weight(row.termIndex, row.tf, row.dl);
    }
    for (const read of reads)
      if ((counts.get(read.termIndex) ?? 0) < read.limit)
        this.lists[read.termIndex]!.exhausted = true;
  }

  /** Resolves candidates, best upper bound first, until the top k is exactly known. */
  async resolve(): Promise<Array<{ chunkId: string; score: number }>> {
    for (;;) {
      const ranked = this.exactTop();
      const kth = ranked.length >= this.search.limit ? ranked.at(-1)!.score : -Infinity;
      const pending = [...this.candidates.values()]
        .filter((c) => this.needsResolving(c))
        .map((c) => ({ c, upper: this.upperBound(c) }))
        .filter((entry) => entry.upper * (1 - SCORE_TIE) > kth)
        .sort((a, b) => b.upper - a.upper)
        .slice(0, PROBE_BATCH)
        .map((entry) => entry.c);
      if (pending.length === 0) return ranked;
      await this.probe(pending);
    }
  }

  /** True when nothing unread can beat the k-th score. */
  provenExact(ranked: Array<{ score: number }>): boolean {
    const unread = this.lists.reduce((sum, _, i) => sum + this.bound(i), 0);
    if (unread === 0) return true;
    return ranked.length >= this.search.limit && ranked.at(-1)!.score >= unread * (1 - SCORE_TIE);
  }

  result(ranked: Array<{ chunkId: string; score: number }>, exact: boolean): ThresholdResult {
    return {
      ranked,
      postingsRead: this.postingsRead,
      exact,
      listsExhausted: this.lists.every((list) => list.exhausted),
      candidates: this.candidates.size,
      maxWeights: this.lists.map((list, i) =>
        list.first === undefined
          ? 0
          : this.search.weights[i]! * weightBoundAfter(list.first, this.search.averageLength),
      ),
    };
  }

  private candidate(chunkId: string): Candidate {
    let found = this.candidates.get(chunkId);
    if (!found) {
      found = { chunkId, known: new Array(this.search.terms.length) };
      this.candidates.set(chunkId, found);
    }
    return found;
  }

  private weight(termIndex: number, tf: number, dl: number): number {
    return this.search.weights[termIndex]! * termFrequencyWeight(tf, dl, this.search.averageLength);
  }

  /** The most a term can still add to a chunk not read in its list (0 once the list is read). */
  private bound(termIndex: number): number {
    const list = this.lists[termIndex]!;
    if (list.exhausted || !list.last) return list.exhausted ? 0 : Infinity;
    return (
      this.search.weights[termIndex]! *
      weightBoundAfter(list.last.impact, this.search.averageLength)
    );
  }

  private missingTerms(c: Candidate): number[] {
    return this.lists.flatMap((list, i) =>
      c.known[i] === undefined && !list.exhausted ? [i] : [],
    );
  }

  private needsResolving(c: Candidate): boolean {
    return (
      this.missingTerms(c).length > 0 ||
      (this.search.filter !== null && c.passesFilter === undefined)
    );
  }

  private score(c: Candidate): number {
    return c.known.reduce<number>((sum, weight) => sum + (weight ?? 0), 0);
  }

  private upperBound(c: Candidate): number {
    return this.missingTerms(c).reduce((sum, i) => sum + this.bound(i), this.score(c));
  }

  /** Resolved candidates (every term known, filter passed), best first, the top k. */
  private exactTop(): Array<{ chunkId: string; score: number }> {
    return [...this.candidates.values()]
      .filter((c) => !this.needsResolving(c))
      .map((c) => ({ chunkId: c.chunkId, score: this.score(c) }))
      .sort((a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : 1))
      .slice(0, this.search.limit);
  }

  private async probe(pending: Candidate[]): Promise<void> {
    const pairs = pending.flatMap((c) =>
      this.missingTerms(c).map((i) => ({ term: this.search.terms[i]!, chunkId: c.chunkId, i })),
    );
    const filter = this.search.filter;
    const [postings, passing] = await Promise.all([
      probePostings(this.client, pairs),
      filter
        ? chunksPassingFilter(
            this.client,
            pending.filter((c) => c.passesFilter === undefined).map((c) => c.chunkId),
            filter,
          )
        : undefined,
    ]);
    this.postingsRead += pairs.length;
    const found = new Map(postings.map((p) => [`${p.term}\u0000${p.chunkId}`, p]));
    for (const pair of pairs) {
      const posting = found.get(`${pair.term}\u0000${pair.chunkId}`);
      this.candidates.get(pair.chunkId)!.known[pair.i] = posting
        ? this.weight(pair.i, posting.tf, posting.dl)
        : 0;
    }
    if (!passing) return;
    for (const c of pending) {
      if (c.passesFilter !== undefined) continue;
      c.passesFilter = passing.has(c.chunkId);
      if (!c.passesFilter) {
        this.candidates.delete(c.chunkId);
        this.rejected.add(c.chunkId);
      }
    }
  }
}
