// A small taxonomy and corpus, created through the API, with the expected coverage
// computed independently (walking the tree in JavaScript, not through our SQL).
import { expect } from 'vitest';
import { CreateTaxonomyMutation, IngestDocumentsMutation } from '../client/operations.js';
import type { Harness } from './harness.js';

export const TAXONOMY_NODES = [
  { key: 'tech', label: 'Technology' },
  { key: 'ai', label: 'Artificial Intelligence', parentKey: 'tech' },
  { key: 'ml', label: 'Machine Learning', parentKey: 'ai' },
  { key: 'nlp', label: 'Natural Language Processing', parentKey: 'ai' },
  { key: 'db', label: 'Databases', parentKey: 'tech' },
  { key: 'pg', label: 'PostgreSQL', parentKey: 'db' },
  { key: 'fin', label: 'Finance' },
  { key: 'empty', label: 'Quantum Computing', parentKey: 'tech' },
];

const longNlp = [
  'Tokenizers split text into subword units before a language model reads it.',
  'Attention lets a transformer weigh every token against every other token in the sequence.',
  'Named entity recognition finds people, places and organisations in running text.',
]
  .map((p) => `${p} ${'Language models learn from large corpora of text. '.repeat(15)}`)
  .join('\n\n');

export const DOCUMENTS = [
  {
    key: 'd1',
    title: 'Gradient descent explained',
    nodes: ['ml'],
    content:
      'Gradient descent minimises a loss function by stepping against the gradient.\n\nLearning rates that are too large make training diverge.',
  },
  {
    key: 'd2',
    title: 'Embeddings for search',
    nodes: ['ml', 'nlp'],
    content: 'Dense vector embeddings map sentences into a space where similar meanings are close.',
  },
  {
    key: 'd3',
    title: 'Vacuum and autovacuum',
    nodes: ['pg'],
    content: 'PostgreSQL reclaims dead tuples with vacuum. Autovacuum runs it in the background.',
  },
  {
    key: 'd4',
    title: 'Interest rates',
    nodes: ['fin'],
    content: 'Central banks raise interest rates to cool inflation. Vacuum cleaners are unrelated.',
  },
  { key: 'd5', title: 'Transformers in practice', nodes: ['nlp'], content: longNlp },
  {
    key: 'd6',
    title: '한국어 문서',
    nodes: ['ai'],
    content: '인공지능은 데이터에서 배운다. Artificial intelligence learns from data.',
  },
];

export interface Corpus {
  version: string;
  nodeIds: Record<string, string>;
  chunkCounts: Record<string, number>;
}

/** Through `key` (default: the operator's, so into the `default` team every user joins). */
export async function createCorpus(
  h: Harness,
  version = `v-${Math.random().toString(36).slice(2, 8)}`,
  key?: string,
): Promise<Corpus> {
  const created = await h.gql(
    CreateTaxonomyMutation,
    { input: { version, name: 'Test taxonomy', nodes: TAXONOMY_NODES } },
    key,
  );
  expect(created.errors).toBeUndefined();
  const nodeIds = Object.fromEntries(created.data!.createTaxonomy.nodes.map((n) => [n.key, n.id]));
  const chunkCounts: Record<string, number> = {};
  for (const doc of DOCUMENTS) {
    const ingested = await h.gql(
      IngestDocumentsMutation,
      {
        taxonomyVersion: version,
        documents: [
          {
            title: doc.title,
            content: doc.content,
            taxonomyNodeIds: doc.nodes.map((k) => nodeIds[k]!),
            source: doc.key,
          },
        ],
      },
      key,
    );
    expect(ingested.errors).toBeUndefined();
    chunkCounts[doc.key] = ingested.data!.ingestDocuments.chunkCount;
  }
  return { version, nodeIds, chunkCounts };
}

/** Keys of a node and all its descendants, from the fixture's parent links. */
export function subtreeKeys(key: string): string[] {
  const children = TAXONOMY_NODES.filter((n) => n.parentKey === key).map((n) => n.key);
  return [key, ...children.flatMap(subtreeKeys)];
}

/** The coverage the issue defines, computed from the fixture alone. */
export function expectedCoverage(
  corpus: Corpus,
  scopeKeys: string[],
  target = 1,
  gapThreshold = 50,
) {
  const docsUnder = (key: string) => {
    const keys = new Set(subtreeKeys(key));
    return DOCUMENTS.filter((d) => d.nodes.some((n) => keys.has(n)));
  };
  const nodes = scopeKeys.map((key) => {
    const docs = docsUnder(key);
    const coverage = Math.round(Math.min(100, (100 * docs.length) / target) * 100) / 100;
    return {
      key,
      documentCount: docs.length,
      chunkCount: docs.reduce((s, d) => s + corpus.chunkCounts[d.key]!, 0),
      coverage,
    };
  });
  const all = new Set(scopeKeys.flatMap((key) => docsUnder(key).map((d) => d.key)));
  return {
    nodes,
    overallCoverage:
      Math.round((nodes.reduce((s, n) => s + n.coverage, 0) / nodes.length) * 100) / 100,
    totalDocuments: all.size,
    totalChunks: [...all].reduce((s, k) => s + corpus.chunkCounts[k]!, 0),
    gaps: nodes.filter((n) => n.coverage < gapThreshold).map((n) => n.key),
  };
}
