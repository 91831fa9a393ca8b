// What a user types into queryAgent: plain words rank by BM25 over any of them; the web
// search syntax people know still holds (websearch_to_tsquery's): a "quoted phrase" must
// appear, a -word or -"phrase" must not, OR is what plain words already mean.
export interface ParsedQuery {
  /** The words that score: every word not negated, phrases' words included. */
  scoringText: string;
  /** websearch_to_tsquery input for the required phrases and excluded words; null when none. */
  filterText: string | null;
  /** The required phrases' texts (the quoted ones not negated): their chunks are read by word pairs. */
  phrases: string[];
}

const TOKEN = /(-?)"([^"]*)"?|(\S+)/g;

const clean = (text: string) => text.replace(/"/g, ' ').trim();

export function parseQuery(text: string): ParsedQuery {
  const scoring: string[] = [];
  const filters: string[] = [];
  const phrases: string[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const [, negated, phrase, word] = match;
    if (phrase !== undefined) {
      const body = clean(phrase);
      if (!body) continue;
      if (negated) filters.push(`-"${body}"`);
      else {
        scoring.push(body);
        filters.push(`"${body}"`);
        phrases.push(body);
      }
    } else if (word === 'OR') {
      continue;
    } else if (word!.length > 1 && word!.startsWith('-')) {
      // Quoted, so a word the analysis splits (a Korean word becomes bigrams) is excluded whole.
      const body = clean(word!.slice(1));
      if (body) filters.push(`-"${body}"`);
    } else {
      scoring.push(word!);
    }
  }
  return {
    scoringText: scoring.join(' '),
    filterText: filters.length ? filters.join(' ') : null,
    phrases,
  };
}
