// The baseline: plain Okapi BM25 over whole documents, computed in memory here (k1 1.2, b 0.75,
// Lucene's IDF), with the plainest analysis: lower case, split on anything not a letter or
// digit, no stemming, no stop words. Written by hand on purpose: it is the yardstick, and it
// must share nothing with the service's search.
const K1 = 1.2;
const B = 0.75;

const tokens = (text: string) =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

export class PlainBm25 {
  private readonly frequencies: Array<Map<string, number>>;
  private readonly lengths: number[];
  private readonly documentFrequency = new Map<string, number>();
  private readonly averageLength: number;

  constructor(private readonly documents: ReadonlyArray<{ id: string; text: string }>) {
    this.frequencies = documents.map((doc) => {
      const counts = new Map<string, number>();
      for (const token of tokens(doc.text)) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const token of counts.keys())
        this.documentFrequency.set(token, (this.documentFrequency.get(token) ?? 0) + 1);
      return counts;
    });
    this.lengths = this.frequencies.map((counts) =>
      [...counts.values()].reduce((a, b) => a + b, 0),
    );
    this.averageLength = this.lengths.reduce((a, b) => a + b, 0) / documents.length;
  }

  /** Document ids, best first, the top `limit`. */
  search(query: string, limit: number): string[] {
    const n = this.documents.length;
    const scored = this.documents.map((doc, i) => {
      let score = 0;
      for (const token of tokens(query)) {
        const tf = this.frequencies[i]!.get(token);
        if (!tf) continue;
        const df = this.documentFrequency.get(token)!;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score +=
          (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * this.lengths[i]!) / this.averageLength));
      }
      return { id: doc.id, score };
    });
    return scored
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map((s) => s.id);
  }
}
