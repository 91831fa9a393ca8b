// Random access for the threshold algorithm: the postings of given (term, chunk) pairs
// (absent pairs: the chunk lacks the term).
import type { Queryable } from '../../../platform/db.js';

export interface ProbedPosting {
  term: string;
  chunkId: string;
  tf: number;
  dl: number;
}

export function probePostings(
  client: Queryable,
  pairs: Array<{ term: string; chunkId: string }>,
): Promise<ProbedPosting[]> {
  if (pairs.length === 0) return Promise.resolve([]);
  return client.$queryRaw<ProbedPosting[]>`
    SELECT p.term, p."chunkId"::text, p.tf, p.dl
    FROM unnest(${pairs.map((pair) => pair.term)}::text[], ${pairs.map((pair) => pair.chunkId)}::uuid[])
      AS k(term, chunk)
    JOIN search_postings p ON p.term = k.term AND p."chunkId" = k.chunk`;
}
