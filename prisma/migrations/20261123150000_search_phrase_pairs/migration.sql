-- Quoted phrases (issue 17): the adjacent lexeme pairs of every chunk, so that the chunks
-- holding a phrase are read from an index instead of checking every chunk with all its words
-- (GIN keeps no positions: "data market" read and checked 132,662 chunks at 1M, 310–480 ms).
-- Elasticsearch's index_phrases does the same with two-word shingles. A pair is its two
-- lexemes joined by a space (the english parser makes no lexeme with a space), so the chunks
-- of a two-word phrase are exactly its pair's rows. Each row also carries what BM25 needs of
-- the chunk for the pair's two words (their tf and the chunk's length), so such a phrase is
-- scored from this index alone.
-- Writes to chunks wait until this migration commits (reads go on): a chunk that another
-- process inserted meanwhile, through the old trigger, would get no pairs, and no phrase
-- would find it. At 1M chunks the backfill below took 3.9 minutes.
LOCK TABLE "chunks" IN SHARE MODE;

CREATE TABLE "search_phrase_pairs" (
    "pair" TEXT NOT NULL,
    "chunkId" UUID NOT NULL,
    "classId" INTEGER NOT NULL,
    "firstTf" SMALLINT NOT NULL,
    "secondTf" SMALLINT NOT NULL,
    "dl" SMALLINT NOT NULL
);

-- The pairs of lexemes at adjacent positions (p, p + 1) of a tsvector: what the phrase
-- operator <-> matches, read off the same positions, so the pairs of a chunk that holds a
-- phrase always include the phrase's pairs. Pairs of two very long lexemes are left out (a
-- b-tree key holds at most 2,704 bytes): a phrase's pairs come from this function too, so such
-- a phrase is found another way.
CREATE FUNCTION search_adjacent_pairs(tsv tsvector) RETURNS TABLE (pair text, first_tf integer, second_tf integer)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  WITH w AS (SELECT l.lexeme, cardinality(l.positions) AS tf, p FROM unnest(tsv) l, unnest(l.positions) p)
  SELECT DISTINCT a.lexeme || ' ' || b.lexeme, a.tf, b.tf FROM w a JOIN w b ON b.p = a.p + 1
  WHERE octet_length(a.lexeme) + octet_length(b.lexeme) < 1000
$$;

-- The statements that add (sign 1) or remove (sign -1) the pairs of a relation's chunks,
-- beside search_index_statements. Chunks are new rows: no upsert, nothing to order.
CREATE FUNCTION search_pair_statements(source text, sign integer) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN sign > 0 THEN ARRAY[
    format($q$INSERT INTO search_phrase_pairs (pair, "chunkId", "classId", "firstTf", "secondTf", dl)
      SELECT x.pair, c.id, c."searchClassId", least(x.first_tf, 32767), least(x.second_tf, 32767), least(c."searchLength", 32767)
      FROM %I c, search_adjacent_pairs(c.tsv) x WHERE c."searchClassId" IS NOT NULL$q$, source)
  ] ELSE ARRAY[
    format($q$DELETE FROM search_phrase_pairs p USING %I c, search_adjacent_pairs(c.tsv) x
      WHERE p.pair = x.pair AND p."chunkId" = c.id$q$, source)
  ] END
$$;

CREATE OR REPLACE FUNCTION chunks_search_index() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  statement text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    FOREACH statement IN ARRAY search_index_statements('old_chunks', -1) || search_pair_statements('old_chunks', -1) LOOP
      EXECUTE statement;
    END LOOP;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    FOREACH statement IN ARRAY search_index_statements('new_chunks', 1) || search_pair_statements('new_chunks', 1) LOOP
      EXECUTE statement;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION search_rebuild_index() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  statement text;
BEGIN
  TRUNCATE search_postings, search_node_stats, search_node_terms, search_phrase_pairs;
  FOREACH statement IN ARRAY search_index_statements('chunks', 1) || search_pair_statements('chunks', 1) LOOP
    EXECUTE statement;
  END LOOP;
END
$$;

-- Existing chunks, then the key (built once over the loaded rows: faster than row by row).
-- The key carries the class, the tfs and the length so that the scope is checked and the
-- phrase scored from the index alone; still one row per pair and chunk (the triggers make them).
DO $$ BEGIN EXECUTE (search_pair_statements('chunks', 1))[1]; END $$;

ALTER TABLE "search_phrase_pairs" ADD CONSTRAINT "search_phrase_pairs_pkey" PRIMARY KEY ("pair", "chunkId", "classId", "firstTf", "secondTf", "dl");
