// The query classes the search benchmark measures, drawn from the corpus itself (df read from the search
// index's root statistics): one rare word, one of the 20 most common words, a two-word
// phrase (and the same quoted), a fifteen-word question. Deterministic: the same corpus
// gives the same queries.
import { db } from '../src/platform/db.js';
import { CONTENT_WORDS, RARE_WORDS, SYLLABLES } from './vocabulary.js';

export interface QueryClass {
  label: string;
  queries: string[];
}

const PER_CLASS = 20;

/** The generator's content word of a Zipf rank (bench/generate.ts, pg_temp.bench_word). */
function wordOfRank(rank: number): string {
  if (rank < CONTENT_WORDS.length) return CONTENT_WORDS[rank]!;
  return [1, 30, 900, 27_000].map((unit) => SYLLABLES[Math.floor(rank / unit) % 30]).join('');
}

/** Surface words with their document frequency over the whole corpus (the roots' statistics). */
async function wordFrequencies(words: string[]): Promise<Array<{ word: string; df: number }>> {
  const rows = await db().$queryRaw<Array<{ word: string; df: number }>>`
    WITH w AS (SELECT word, (SELECT lexeme FROM unnest(to_tsvector('english', word)) LIMIT 1) AS term FROM unnest(${words}::text[]) word),
    roots AS (SELECT id FROM taxonomy_nodes WHERE "parentId" IS NULL)
    SELECT w.word, coalesce((SELECT sum(df) FROM search_node_terms t WHERE t.term = w.term AND t."nodeId" IN (SELECT id FROM roots)), 0)::int AS df
    FROM w WHERE w.term IS NOT NULL`;
  return rows;
}

const QUESTION = (w: string[]) =>
  `what is the effect of ${w[0]} and ${w[1]} on ${w[2]} of ${w[3]} for ${w[4]} ${w[5]}`;

export async function queryClasses(): Promise<QueryClass[]> {
  const sampled = Array.from({ length: 400 }, (_, i) =>
    wordOfRank(Math.floor(1.5 ** (i / 17)) - 1 + i),
  );
  const frequencies = (
    await wordFrequencies([...new Set([...CONTENT_WORDS, ...RARE_WORDS, ...sampled])])
  ).sort((a, b) => b.df - a.df);
  const common = frequencies.slice(0, PER_CLASS).map((f) => f.word);
  const rare = frequencies
    .filter((f) => f.df >= 50 && f.df <= 500)
    .slice(0, PER_CLASS)
    .map((f) => f.word);
  const frequent = frequencies.slice(0, 200).map((f) => f.word);
  const pairs = Array.from(
    { length: PER_CLASS },
    (_, i) => `${frequent[(i * 7) % frequent.length]} ${frequent[(i * 13 + 5) % frequent.length]}`,
  );
  // Fifteen words: function words and six content words across the frequencies (two common, two mid, two rarer).
  const mid = frequencies.filter((f) => f.df > 500 && f.df < 20_000).map((f) => f.word);
  const questions = Array.from({ length: PER_CLASS }, (_, i) =>
    QUESTION([
      frequent[i]!,
      frequent[(i * 3 + 1) % frequent.length]!,
      mid[(i * 5) % mid.length]!,
      mid[(i * 11 + 3) % mid.length]!,
      rare[(i * 7) % rare.length]!,
      frequent[(i * 17 + 9) % frequent.length]!,
    ]),
  );
  return [
    { label: 'one rare word (df 50-500)', queries: rare },
    { label: 'one of the 20 most common words', queries: common },
    { label: 'two words', queries: pairs },
    { label: 'two words, quoted phrase', queries: pairs.map((pair) => `"${pair}"`) },
    { label: 'fifteen-word question', queries: questions },
  ];
}
