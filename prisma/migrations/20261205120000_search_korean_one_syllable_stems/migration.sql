-- A Hangul word whose particle would leave one syllable (책을, 법은, 돈이, 책에서) kept its
-- particle, so the bare noun (책) did not find it. Without a dictionary such a word cannot be
-- told from a noun that ends like a particle (결과, 국가, 회의), so it is indexed as before
-- and, beside that, as its one-syllable stem: 책을 → 책을 책, 책에서 → 책에 에서 책. The noun
-- alone, and the word with any particle, then share a term; queries go through the same
-- function. Words that keep two syllables or more after their particle are unchanged.
CREATE OR REPLACE FUNCTION search_korean_word(word text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  particle text;
  stem text := word;
  one_syllable text;
  grams text[] := '{}';
  analysed text;
BEGIN
  FOREACH particle IN ARRAY ARRAY[
    '에서부터', '으로부터', '로부터', '에게서', '한테서', '에서는', '에서도', '에서의', '에서만', '으로는',
    '으로도', '으로서', '으로써', '으로의', '에게는', '에게도', '이라고', '이라는', '이라면', '이지만',
    '입니다', '에서', '에게', '한테', '께서', '으로', '로는', '로도', '로서', '로써', '에는', '에도',
    '에의', '와의', '과의', '와는', '과는', '까지', '부터', '처럼', '보다', '마다', '조차', '마저',
    '밖에', '이나', '이란', '이며', '이다', '이고', '라고', '라는',
    '은', '는', '이', '가', '을', '를', '의', '에', '와', '과', '도', '만', '로'
  ] LOOP
    IF right(word, char_length(particle)) = particle THEN
      IF char_length(word) - char_length(particle) >= 2 THEN
        stem := left(word, char_length(word) - char_length(particle));
        one_syllable := NULL;
        EXIT;
      ELSIF char_length(word) - char_length(particle) = 1 AND one_syllable IS NULL THEN
        one_syllable := left(word, 1);
      END IF;
    END IF;
  END LOOP;
  IF char_length(stem) <= 2 THEN
    analysed := stem;
  ELSE
    FOR i IN 1 .. char_length(stem) - 1 LOOP
      grams := grams || substr(stem, i, 2);
    END LOOP;
    analysed := array_to_string(grams, ' ');
  END IF;
  IF one_syllable IS NOT NULL THEN
    RETURN analysed || ' ' || one_syllable;
  END IF;
  RETURN analysed;
END
$$;

-- The chunks with Hangul analysed again: the row trigger rewrites their tsvector and length,
-- the statement trigger moves their postings, phrase pairs and statistics.
UPDATE chunks SET "content" = "content" WHERE "content" ~ '[가-힣]';
