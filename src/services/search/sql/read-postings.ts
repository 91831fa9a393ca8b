// The next postings of each term in the scope, best impact first (the ordered index, read
// from where the previous read stopped): the lists the threshold algorithm walks.
import type { Queryable } from '../../../platform/db.js';

export interface ListRead {
  /** Index of the term in the query's term list. */
  termIndex: number;
  term: string;
  /** Postings wanted from this term. */
  limit: number;
  /** The last posting read so far, or none for the start of the list. */
  after?: { impact: number; chunkId: string };
}

export interface PostingRow {
  termIndex: number;
  chunkId: string;
  tf: number;
  dl: number;
  impact: number;
}

export function readPostings(
  client: Queryable,
  scopeNodeIds: string[],
  reads: ListRead[],
): Promise<PostingRow[]> {
  const afterImpact = reads.map((read) => read.after?.impact ?? null);
  const afterChunk = reads.map((read) => read.after?.chunkId ?? null);
  return client.$queryRaw<PostingRow[]>`
    SELECT l.i AS "termIndex", p."chunkId"::text, p.tf, p.dl, p.impact::float8 AS impact
    FROM unnest(${reads.map((read) => read.termIndex)}::int[], ${reads.map((read) => read.term)}::text[],
                ${reads.map((read) => read.limit)}::int[], ${afterImpact}::real[], ${afterChunk}::uuid[])
         AS l(i, term, wanted, after_impact, after_chunk)
    CROSS JOIN LATERAL (
      SELECT p."chunkId", p.tf, p.dl, p.impact
      FROM search_postings p
      WHERE p.term = l.term
        AND (l.after_impact IS NULL OR p.impact < l.after_impact
             OR (p.impact = l.after_impact AND p."chunkId" < l.after_chunk))
        AND (SELECT s."ancestorIds" && ${scopeNodeIds}::uuid[] FROM search_classes s WHERE s.id = p."classId")
      ORDER BY p.impact DESC, p."chunkId" DESC
      LIMIT l.wanted
    ) p`;
}
