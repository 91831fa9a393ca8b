-- AlterTable
ALTER TABLE "chunks" ADD COLUMN     "searchClassId" INTEGER,
ADD COLUMN     "searchLength" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "search_classes" (
    "id" SERIAL NOT NULL,
    "taxonomyId" UUID NOT NULL,
    "nodeIds" UUID[],
    "ancestorIds" UUID[],

    CONSTRAINT "search_classes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "search_postings" (
    "term" TEXT NOT NULL,
    "chunkId" UUID NOT NULL,
    "classId" INTEGER NOT NULL,
    "tf" SMALLINT NOT NULL,
    "dl" SMALLINT NOT NULL,
    "impact" REAL NOT NULL,

    CONSTRAINT "search_postings_pkey" PRIMARY KEY ("term","chunkId")
);

-- CreateTable
CREATE TABLE "search_node_stats" (
    "nodeId" UUID NOT NULL,
    "chunks" INTEGER NOT NULL,
    "length" BIGINT NOT NULL,
    "keepsTerms" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "search_node_stats_pkey" PRIMARY KEY ("nodeId")
);

-- CreateTable
CREATE TABLE "search_node_terms" (
    "nodeId" UUID NOT NULL,
    "term" TEXT NOT NULL,
    "df" INTEGER NOT NULL,

    CONSTRAINT "search_node_terms_pkey" PRIMARY KEY ("nodeId","term")
);

-- CreateIndex
CREATE INDEX "search_classes_ancestorIds_idx" ON "search_classes" USING GIN ("ancestorIds");

-- CreateIndex
CREATE UNIQUE INDEX "search_classes_taxonomyId_nodeIds_key" ON "search_classes"("taxonomyId", "nodeIds");

-- CreateIndex
CREATE INDEX "search_postings_term_impact_chunkId_classId_tf_dl_idx" ON "search_postings"("term", "impact" DESC, "chunkId" DESC, "classId", "tf", "dl");

-- CreateIndex
CREATE INDEX "chunks_searchClassId_idx" ON "chunks"("searchClassId");

-- AddForeignKey
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_searchClassId_fkey" FOREIGN KEY ("searchClassId") REFERENCES "search_classes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "search_classes" ADD CONSTRAINT "search_classes_taxonomyId_fkey" FOREIGN KEY ("taxonomyId") REFERENCES "taxonomies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "search_node_stats" ADD CONSTRAINT "search_node_stats_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "taxonomy_nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "search_node_terms" ADD CONSTRAINT "search_node_terms_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "taxonomy_nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------
-- Hand-written: the text analysis and the BM25 index (issue 17). Everything below is the
-- one place where chunks become searchable; the API reads it in src/resolvers/search.

-- Korean (seed documents are Korean): PostgreSQL has no Korean parser, so a Hangul word
-- loses one trailing particle (보고서를 → 보고서, when two syllables stay) and is indexed
-- as overlapping syllable bigrams (보고 고서), as Lucene's CJK analyzer does: compounds and
-- verb forms still share terms (주간보고서, 작성했다 / 작성한). Queries go through the same
-- function, so a query with any particle finds the word.
CREATE FUNCTION search_korean_word(word text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  particle text;
  stem text := word;
  grams text[] := '{}';
BEGIN
  FOREACH particle IN ARRAY ARRAY[
    '에서부터', '으로부터', '로부터', '에게서', '한테서', '에서는', '에서도', '에서의', '에서만', '으로는',
    '으로도', '으로서', '으로써', '으로의', '에게는', '에게도', '이라고', '이라는', '이라면', '이지만',
    '입니다', '에서', '에게', '한테', '께서', '으로', '로는', '로도', '로서', '로써', '에는', '에도',
    '에의', '와의', '과의', '와는', '과는', '까지', '부터', '처럼', '보다', '마다', '조차', '마저',
    '밖에', '이나', '이란', '이며', '이다', '이고', '라고', '라는',
    '은', '는', '이', '가', '을', '를', '의', '에', '와', '과', '도', '만', '로'
  ] LOOP
    IF char_length(word) - char_length(particle) >= 2 AND right(word, char_length(particle)) = particle THEN
      stem := left(word, char_length(word) - char_length(particle));
      EXIT;
    END IF;
  END LOOP;
  IF char_length(stem) <= 2 THEN
    RETURN stem;
  END IF;
  FOR i IN 1 .. char_length(stem) - 1 LOOP
    grams := grams || substr(stem, i, 2);
  END LOOP;
  RETURN array_to_string(grams, ' ');
END
$$;

-- The text the english configuration indexes: the input with every Hangul word rewritten.
CREATE FUNCTION search_text(input text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN input !~ '[가-힣]' THEN input ELSE (
    SELECT string_agg(CASE WHEN part[1] ~ '^[가-힣]+$' THEN ' ' || search_korean_word(part[1]) || ' ' ELSE part[1] END, '' ORDER BY n)
    FROM regexp_matches(input, '[가-힣]+|[^가-힣]+', 'g') WITH ORDINALITY AS t(part, n)
  ) END
$$;

-- A chunk's length for BM25: its indexed words (stop words are not indexed).
CREATE FUNCTION search_length(tsv tsvector) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(sum(cardinality(positions)), 0)::integer FROM unnest(tsv)
$$;

-- BM25's term weight without the IDF, at the reference average length 64 (k1 = 1.2,
-- b = 0.75), divided by k1 + 1: the order a term's postings are read in. The query side
-- (src/resolvers/search/bm25.ts) scores with the scope's real average length and bounds
-- what it has not read yet from this value.
CREATE FUNCTION search_impact(tf integer, dl integer) RETURNS real
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT (tf::float8 / (tf + 1.2 * (1 - 0.75) + 1.2 * 0.75 * dl / 64.0))::real
$$;

-- Any of the terms (already analysed lexemes) as a tsquery, for the GIN index.
CREATE FUNCTION search_any_term(terms text[]) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_agg('''' || replace(replace(t, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery FROM unnest(terms) t
$$;

-- The search class of a document: its node set, created on first use.
CREATE FUNCTION search_class_of(document uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  taxonomy uuid;
  nodes uuid[];
  found integer;
BEGIN
  SELECT d."taxonomyId", array_agg(dn."nodeId" ORDER BY dn."nodeId") INTO taxonomy, nodes
  FROM documents d JOIN document_nodes dn ON dn."documentId" = d.id
  WHERE d.id = document
  GROUP BY d."taxonomyId";
  IF nodes IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT id INTO found FROM search_classes WHERE "taxonomyId" = taxonomy AND "nodeIds" = nodes;
  IF found IS NULL THEN
    INSERT INTO search_classes ("taxonomyId", "nodeIds", "ancestorIds")
    SELECT taxonomy, nodes, array_agg(DISTINCT a) FROM taxonomy_nodes n, unnest(n."ancestorIds") a WHERE n.id = ANY (nodes)
    ON CONFLICT ("taxonomyId", "nodeIds") DO NOTHING
    RETURNING id INTO found;
    IF found IS NULL THEN -- created by a concurrent transaction that has committed since
      SELECT id INTO found FROM search_classes WHERE "taxonomyId" = taxonomy AND "nodeIds" = nodes;
    END IF;
  END IF;
  RETURN found;
END
$$;

-- Document frequencies are kept for nodes with at least this many chunks under them; the
-- terms of smaller subtrees are counted from their chunks when a query asks (search_scope_df),
-- which keeps search_node_terms to a few rows per large node instead of one per node and word.
CREATE FUNCTION search_terms_kept_from() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 2000 $$;

-- Creates the classes of these node sets (a JSON array of arrays of node ids) that do not
-- exist yet, in one committed statement in key order. Ingest calls it before its own
-- transaction: two ingests that each created classes inside their transactions, in different
-- orders, would deadlock on the unique index.
CREATE FUNCTION search_ensure_classes(taxonomy uuid, node_sets jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO search_classes ("taxonomyId", "nodeIds", "ancestorIds")
  SELECT taxonomy, s.nodes, (SELECT array_agg(DISTINCT a) FROM taxonomy_nodes n, unnest(n."ancestorIds") a WHERE n.id = ANY (s.nodes))
  FROM (SELECT DISTINCT ARRAY(SELECT DISTINCT e::uuid FROM jsonb_array_elements_text(x) e ORDER BY 1) AS nodes
        FROM jsonb_array_elements(node_sets) x) s
  ORDER BY s.nodes
  ON CONFLICT ("taxonomyId", "nodeIds") DO NOTHING
$$;

-- The statements that add (sign 1) or remove (sign -1) the chunks of a relation (a trigger's
-- transition table, or `chunks` for a rebuild) to or from the postings and the statistics
-- of every node above them. Upserts go in key order, so concurrent ingests queue on the
-- shared rows instead of deadlocking. A node that reaches search_terms_kept_from() chunks
-- gets its document frequencies from all its chunks (the new ones included) and is kept
-- up to date from then on.
CREATE FUNCTION search_index_statements(source text, sign integer) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN sign > 0 THEN ARRAY[
    format($q$INSERT INTO search_postings (term, "chunkId", "classId", tf, dl, impact)
      SELECT l.lexeme, c.id, c."searchClassId", least(cardinality(l.positions), 32767), least(c."searchLength", 32767),
             search_impact(cardinality(l.positions), c."searchLength")
      FROM %I c, unnest(c.tsv) l WHERE c."searchClassId" IS NOT NULL$q$, source),
    format($q$INSERT INTO search_node_stats ("nodeId", chunks, length)
      SELECT a.node, count(*), sum(c."searchLength")
      FROM %I c JOIN search_classes s ON s.id = c."searchClassId", unnest(s."ancestorIds") a(node)
      GROUP BY a.node ORDER BY a.node
      ON CONFLICT ("nodeId") DO UPDATE SET chunks = search_node_stats.chunks + excluded.chunks,
                                           length = search_node_stats.length + excluded.length$q$, source),
    -- After this statement's statistics rows are locked (above), so a concurrent ingest's
    -- chunks are either committed (and in a node's backfill) or still to come (and counted by
    -- that ingest, which then sees the node keep terms). Within one statement, the nodes it
    -- makes keep terms still read as not keeping them: their backfill already holds its chunks.
    format($q$WITH grown AS (
        UPDATE search_node_stats SET "keepsTerms" = true
        WHERE NOT "keepsTerms" AND chunks >= search_terms_kept_from()
          AND "nodeId" IN (SELECT a.node FROM %1$I c JOIN search_classes s ON s.id = c."searchClassId", unnest(s."ancestorIds") a(node))
        RETURNING "nodeId"),
      backfill AS (
        INSERT INTO search_node_terms ("nodeId", term, df)
        SELECT g."nodeId", l.lexeme, count(*)
        FROM grown g JOIN search_classes s ON s."ancestorIds" @> ARRAY[g."nodeId"]
        JOIN chunks c ON c."searchClassId" = s.id, unnest(c.tsv) l
        GROUP BY g."nodeId", l.lexeme ORDER BY 1, 2)
      INSERT INTO search_node_terms ("nodeId", term, df)
      SELECT a.node, l.lexeme, count(*)
      FROM %1$I c JOIN search_classes s ON s.id = c."searchClassId", unnest(s."ancestorIds") a(node), unnest(c.tsv) l
      WHERE a.node IN (SELECT "nodeId" FROM search_node_stats WHERE "keepsTerms")
      GROUP BY a.node, l.lexeme ORDER BY a.node, l.lexeme
      ON CONFLICT ("nodeId", term) DO UPDATE SET df = search_node_terms.df + excluded.df$q$, source)
  ] ELSE ARRAY[
    format($q$DELETE FROM search_postings p USING %I c, unnest(c.tsv) l
      WHERE p.term = l.lexeme AND p."chunkId" = c.id$q$, source),
    format($q$UPDATE search_node_stats t SET chunks = t.chunks - d.chunks, length = t.length - d.length
      FROM (SELECT a.node, count(*) AS chunks, sum(c."searchLength") AS length
            FROM %I c JOIN search_classes s ON s.id = c."searchClassId", unnest(s."ancestorIds") a(node)
            GROUP BY a.node) d
      WHERE t."nodeId" = d.node$q$, source),
    format($q$UPDATE search_node_terms t SET df = t.df - d.df
      FROM (SELECT a.node, l.lexeme AS term, count(*) AS df
            FROM %I c JOIN search_classes s ON s.id = c."searchClassId", unnest(s."ancestorIds") a(node), unnest(c.tsv) l
            GROUP BY a.node, l.lexeme) d
      WHERE t."nodeId" = d.node AND t.term = d.term$q$, source),
    -- A separate statement: a data-modifying CTE cannot see the rows the UPDATE changed.
    format($q$DELETE FROM search_node_terms t
      USING %I c JOIN search_classes s ON s.id = c."searchClassId", unnest(s."ancestorIds") a(node), unnest(c.tsv) l
      WHERE t."nodeId" = a.node AND t.term = l.lexeme AND t.df <= 0$q$, source)
  ] END
$$;

-- Document frequencies of the terms over the given nodes' subtrees (a chunk once per node it
-- is under): kept counts for large nodes, counted from the chunks for the others.
CREATE FUNCTION search_scope_df(nodes uuid[], terms text[]) RETURNS TABLE (term text, df bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH small AS (
    SELECT n FROM unnest(nodes) n
    WHERE NOT EXISTS (SELECT 1 FROM search_node_stats ns WHERE ns."nodeId" = n AND ns."keepsTerms")
  ),
  counted AS (
    SELECT l.lexeme AS term, count(*) AS df
    FROM small JOIN search_classes s ON s."ancestorIds" @> ARRAY[small.n]
    JOIN chunks c ON c."searchClassId" = s.id, unnest(c.tsv) l
    WHERE l.lexeme = ANY (terms)
    GROUP BY l.lexeme
  ),
  kept AS (
    SELECT nt.term, sum(nt.df) AS df FROM search_node_terms nt
    WHERE nt."nodeId" = ANY (nodes) AND nt."nodeId" NOT IN (SELECT n FROM small) AND nt.term = ANY (terms)
    GROUP BY nt.term
  )
  SELECT t.term, (coalesce(kept.df, 0) + coalesce(counted.df, 0))::bigint
  FROM unnest(terms) t(term) LEFT JOIN kept USING (term) LEFT JOIN counted USING (term)
$$;

-- Every statement on chunks keeps the index in step, in the same transaction.
CREATE FUNCTION chunks_search_index() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  statement text;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    FOREACH statement IN ARRAY search_index_statements('old_chunks', -1) LOOP
      EXECUTE statement;
    END LOOP;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    FOREACH statement IN ARRAY search_index_statements('new_chunks', 1) LOOP
      EXECUTE statement;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

-- The whole index from the chunks table (after a bulk load with the triggers disabled).
CREATE FUNCTION search_rebuild_index() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  statement text;
BEGIN
  TRUNCATE search_postings, search_node_stats, search_node_terms;
  FOREACH statement IN ARRAY search_index_statements('chunks', 1) LOOP
    EXECUTE statement;
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION chunks_tsv_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."tsv" := to_tsvector('english', search_text(NEW."content"));
  NEW."searchLength" := search_length(NEW."tsv");
  IF TG_OP = 'INSERT' THEN
    NEW."searchClassId" := search_class_of(NEW."documentId");
  END IF;
  RETURN NEW;
END
$$;

-- Existing chunks: analysed again (Korean), classed, indexed.
UPDATE chunks SET "tsv" = to_tsvector('english', search_text("content")), "searchClassId" = search_class_of("documentId");
UPDATE chunks SET "searchLength" = search_length("tsv");
SELECT search_rebuild_index();

CREATE TRIGGER chunks_search_insert AFTER INSERT ON chunks
  REFERENCING NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION chunks_search_index();
CREATE TRIGGER chunks_search_update AFTER UPDATE ON chunks
  REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION chunks_search_index();
CREATE TRIGGER chunks_search_delete AFTER DELETE ON chunks
  REFERENCING OLD TABLE AS old_chunks FOR EACH STATEMENT EXECUTE FUNCTION chunks_search_index();
