// Matches counted exactly, up to a cap: the chunks in the scope with any of the terms (and
// passing the filter), through the GIN index; past the cap the count stops.
import type { Queryable } from '../../../platform/db.js';

/** The count, or cap + 1 when there are more than cap. */
export async function countMatchesUpTo(
  client: Queryable,
  search: { terms: string[]; scopeNodeIds: string[]; filter: string | null },
  cap: number,
): Promise<number> {
  const [row] = await client.$queryRaw<Array<{ count: number }>>`
    SELECT count(*)::int AS count FROM (
      SELECT 1 FROM chunks c JOIN search_classes s ON s.id = c."searchClassId"
      WHERE c.tsv @@ search_any_term(${search.terms}::text[])
        AND (${search.filter}::tsquery IS NULL OR c.tsv @@ ${search.filter}::tsquery)
        AND s."ancestorIds" && ${search.scopeNodeIds}::uuid[]
      LIMIT ${cap + 1}
    ) matches`;
  return row!.count;
}
