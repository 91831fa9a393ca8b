// Everything BM25 needs before reading postings, in one round trip: the agent's scope (its
// nodes, less those under another of its nodes), the scope's corpus statistics, each query
// term (analysed as the chunks are) with its frequency in the query, in the scope and in the
// whole taxonomy, and the filter (phrases, minus words) as a tsquery.
import type { Queryable } from '../../../platform/db.js';
import type { ParsedQuery } from '../query-syntax.js';

export interface QueryTermStatistics {
  term: string;
  /** Occurrences in the query. */
  qtf: number;
  /** Chunks in the scope that contain the term. */
  df: number;
  /** Chunks in the agent's taxonomy that contain the term: a term's postings to read in full. */
  taxonomyDf: number;
}

export interface ScopeStatistics {
  scopeNodeIds: string[];
  /** Chunks in the scope. */
  chunks: number;
  /** Their total length in indexed words. */
  length: number;
  /** Chunks in the agent's taxonomy (what the GIN index's word lists cover). */
  taxonomyChunks: number;
  terms: QueryTermStatistics[];
  /** tsquery text of the required phrases and excluded words, or null. */
  filter: string | null;
  /**
   * The filter requires words (a phrase): the GIN index finds every chunk that passes it.
   * False for no filter, or one of minus words only (its index part, querytree, is 'T').
   */
  filterFindsMatches: boolean;
  /**
   * The adjacent word pairs of the required phrases (search_adjacent_pairs): every chunk that
   * passes the filter holds them all. Empty without a phrase of two words.
   */
  phrasePairs: string[];
  /** The filter is one phrase of two adjacent words: the chunks that pass it are its pair's. */
  filterIsOnePair: boolean;
}

/**
 * `readableTeamIds`: the teams whose taxonomies the reader may read (null: every team). An
 * agent's scope may name another team's nodes (a clone of that team's agent); they count only
 * for a reader in that team, so a clone is no way into a team its reader is not (or no longer) in.
 */
export async function selectScopeStatistics(
  client: Queryable,
  agentId: string,
  query: ParsedQuery,
  readableTeamIds: readonly string[] | null,
): Promise<ScopeStatistics> {
  const { scoringText, filterText, phrases } = query;
  const onePhrase = phrases.length === 1 && filterText === `"${phrases[0]}"`;
  const [row] = await client.$queryRaw<ScopeStatistics[]>`
    WITH scope AS (
      SELECT an."nodeId" AS id
      FROM agent_nodes an JOIN taxonomy_nodes n ON n.id = an."nodeId"
      WHERE an."agentId" = ${agentId}::uuid
        AND (${readableTeamIds as string[] | null}::uuid[] IS NULL
             OR (SELECT t."teamId" FROM taxonomies t WHERE t.id = n."taxonomyId")
                = ANY (${readableTeamIds as string[] | null}::uuid[]))
        AND NOT EXISTS (SELECT 1 FROM agent_nodes o
                        WHERE o."agentId" = an."agentId" AND o."nodeId" <> an."nodeId"
                          AND o."nodeId" = ANY (n."ancestorIds"))
    ),
    roots AS (
      SELECT n.id FROM agents a JOIN taxonomy_nodes n ON n."taxonomyId" = a."taxonomyId" AND n."parentId" IS NULL
      WHERE a.id = ${agentId}::uuid
    ),
    words AS (
      SELECT l.lexeme AS term, cardinality(l.positions) AS qtf
      FROM unnest(to_tsvector('english', search_text(${scoringText}::text))) l
    ),
    scope_df AS (SELECT * FROM search_scope_df(ARRAY(SELECT id FROM scope), ARRAY(SELECT term FROM words))),
    taxonomy_df AS (SELECT * FROM search_scope_df(ARRAY(SELECT id FROM roots), ARRAY(SELECT term FROM words))),
    filter AS (SELECT websearch_to_tsquery('english', search_text(${filterText}::text)) AS query),
    phrase_vectors AS (SELECT to_tsvector('english', search_text(phrase)) AS v FROM unnest(${phrases}::text[]) phrase)
    SELECT
      ARRAY(SELECT id::text FROM scope) AS "scopeNodeIds",
      coalesce((SELECT sum(s.chunks) FROM search_node_stats s WHERE s."nodeId" IN (SELECT id FROM scope)), 0)::float8
        AS chunks,
      coalesce((SELECT sum(s.length) FROM search_node_stats s WHERE s."nodeId" IN (SELECT id FROM scope)), 0)::float8
        AS length,
      coalesce((SELECT sum(s.chunks) FROM search_node_stats s WHERE s."nodeId" IN (SELECT id FROM roots)), 0)::float8
        AS "taxonomyChunks",
      coalesce((
        SELECT json_agg(json_build_object(
          'term', w.term,
          'qtf', w.qtf,
          'df', (SELECT d.df FROM scope_df d WHERE d.term = w.term),
          'taxonomyDf', (SELECT d.df FROM taxonomy_df d WHERE d.term = w.term)
        ) ORDER BY w.term)
        FROM words w
      ), '[]'::json) AS terms,
      (SELECT CASE WHEN numnode(query) = 0 THEN NULL ELSE query::text END FROM filter) AS filter,
      coalesce((SELECT numnode(query) > 0 AND querytree(query) <> 'T' FROM filter), false) AS "filterFindsMatches",
      ARRAY(SELECT DISTINCT x.pair FROM phrase_vectors, search_adjacent_pairs(v) x) AS "phrasePairs",
      ${onePhrase}::boolean AND coalesce((
        SELECT search_length(v) = 2 AND (SELECT count(*) = 1 FROM search_adjacent_pairs(v))
        FROM phrase_vectors), false) AS "filterIsOnePair"`;
  return row!;
}
