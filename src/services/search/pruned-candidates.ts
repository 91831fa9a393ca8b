// When the threshold algorithm has not proven its top k after a few rounds (several common or
// mid-frequency words: their postings' weights barely fall, so its bound stays high), its k-th
// exact score θ is still a floor for the true top k. A chunk can only reach θ with a set of
// query words whose largest weights add up to θ, so the top k lie among the chunks that hold
// one of the minimal such sets: a disjunction of conjunctions that the GIN index evaluates,
// intersecting the words' posting lists without reading their rows (the pruning WAND and
// MaxScore do over document-ordered lists). Those few chunks are then scored exactly.
import { SCORE_TIE } from './bm25.js';

/** More sets than this and the query is scored another way. */
export const MAX_TERM_SETS = 256;

/**
 * The minimal sets of term indexes whose largest weights reach `theta`, or undefined past
 * MAX_TERM_SETS. Terms are taken heaviest first, so the set found when the sum first reaches
 * theta loses it without any one of its terms (its lightest included): it is minimal.
 */
export function termSetsReaching(
  maxWeights: readonly number[],
  theta: number,
): number[][] | undefined {
  const floor = theta * (1 - SCORE_TIE);
  const order = maxWeights
    .map((weight, index) => ({ weight, index }))
    .filter((t) => t.weight > 0)
    .sort((a, b) => b.weight - a.weight);
  const rest = order.map((_, i) => order.slice(i).reduce((sum, t) => sum + t.weight, 0));
  const sets: number[][] = [];
  const visit = (from: number, sum: number, chosen: number[]): boolean => {
    for (let i = from; i < order.length; i++) {
      if (sum + rest[i]! < floor) return true; // nothing further can reach theta
      const next = [...chosen, order[i]!.index];
      if (sum + order[i]!.weight >= floor) {
        sets.push(next);
        if (sets.length > MAX_TERM_SETS) return false;
      } else if (!visit(i + 1, sum + order[i]!.weight, next)) {
        return false;
      }
    }
    return true;
  };
  return visit(0, 0, []) ? sets : undefined;
}

const lexeme = (term: string) => `'${term.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** The sets as tsquery text: (a & b) | (c) | … */
export function candidateQuery(terms: readonly string[], sets: number[][]): string {
  return sets.map((set) => `(${set.map((i) => lexeme(terms[i]!)).join(' & ')})`).join(' | ');
}
