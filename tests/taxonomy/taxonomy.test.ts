import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { CreateTaxonomyMutation, IngestDocumentsMutation } from '../client/operations.js';
import { createCorpus, DOCUMENTS, TAXONOMY_NODES } from '../utils/corpus.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

describe('taxonomy', () => {
  it('creates a versioned tree with labels paths and parents, parents first', async () => {
    const response = await h.gql(CreateTaxonomyMutation, {
      input: { version: '1.0.0', name: 'Main', nodes: [...TAXONOMY_NODES].reverse() },
    });
    expect(response.errors).toBeUndefined();
    const nodes = response.data!.createTaxonomy.nodes;
    const byKey = Object.fromEntries(nodes.map((n) => [n.key, n]));
    expect(byKey.pg!.path).toEqual(['Technology', 'Databases', 'PostgreSQL']);
    expect(byKey.pg!.parent?.id).toBe(byKey.db!.id);
    expect(byKey.fin!.parent).toBeNull();
    const order = nodes.map((n) => n.key);
    expect(order.indexOf('tech')).toBeLessThan(order.indexOf('ai'));
    expect(order.indexOf('ai')).toBeLessThan(order.indexOf('ml'));

    const fetched = await h.gql(
      'query($v: String!) { taxonomy(version: $v) { version name nodes { key } } }',
      { v: '1.0.0' },
    );
    expect(fetched.data.taxonomy).toMatchObject({ version: '1.0.0', name: 'Main' });
    expect(fetched.data.taxonomy.nodes).toHaveLength(TAXONOMY_NODES.length);
    expect((await h.gql('{ taxonomy(version: "9.9.9") { id } }')).data.taxonomy).toBeNull();
  });

  it('refuses a duplicate version with CONFLICT', async () => {
    const input = { version: 'dup', name: 'x', nodes: [{ key: 'a', label: 'A' }] };
    expect((await h.gql(CreateTaxonomyMutation, { input })).errors).toBeUndefined();
    expect(errorCodes(await h.gql(CreateTaxonomyMutation, { input }))).toEqual(['CONFLICT']);
  });

  it('refuses unknown parents, duplicate keys and cycles with BAD_USER_INPUT and writes nothing', async () => {
    const unknownParent = await h.gql(CreateTaxonomyMutation, {
      input: { version: 'bad-1', name: 'x', nodes: [{ key: 'a', label: 'A', parentKey: 'nope' }] },
    });
    expect(errorCodes(unknownParent)).toEqual(['BAD_USER_INPUT']);
    expect(unknownParent.errors![0]!.message).toContain('nope');
    const duplicate = await h.gql(CreateTaxonomyMutation, {
      input: {
        version: 'bad-2',
        name: 'x',
        nodes: [
          { key: 'a', label: 'A' },
          { key: 'a', label: 'B' },
        ],
      },
    });
    expect(errorCodes(duplicate)).toEqual(['BAD_USER_INPUT']);
    const cycle = await h.gql(CreateTaxonomyMutation, {
      input: {
        version: 'bad-3',
        name: 'x',
        nodes: [
          { key: 'r', label: 'R' },
          { key: 'a', label: 'A', parentKey: 'b' },
          { key: 'b', label: 'B', parentKey: 'a' },
        ],
      },
    });
    expect(errorCodes(cycle)).toEqual(['BAD_USER_INPUT']);
    // Each names the argument at fault, by its path to the first node at fault.
    expect(
      [unknownParent, duplicate, cycle].map((r) => r.errors![0]!.extensions!.argument),
    ).toEqual(['input.nodes[0].parentKey', 'input.nodes[1].key', 'input.nodes[1].parentKey']);
    expect(await db().taxonomy.count({ where: { version: { startsWith: 'bad-' } } })).toBe(0);
  });
});

describe('ingestDocuments', () => {
  it('stores documents, their nodes and searchable chunks', async () => {
    const corpus = await createCorpus(h);
    const docs = await db().document.findMany({
      where: { taxonomy: { version: corpus.version } },
      include: { nodes: true, chunks: true },
    });
    expect(docs).toHaveLength(DOCUMENTS.length);
    const long = docs.find((d) => d.source === 'd5')!;
    expect(long.chunks.length).toBeGreaterThan(1);
    expect(long.chunkCount).toBe(long.chunks.length);
    for (const chunk of long.chunks) expect(chunk.content.length).toBeLessThanOrEqual(1000);
    // Paragraph-aware: no chunk starts mid-sentence.
    for (const chunk of long.chunks) expect(chunk.content).toMatch(/^[A-Z]/);
    const both = docs.find((d) => d.source === 'd2')!;
    expect(both.nodes.map((n) => n.nodeId).sort()).toEqual(
      [corpus.nodeIds.ml, corpus.nodeIds.nlp].map((g) => rowId(g!)).sort(),
    );
    const [{ indexed }] = await db().$queryRaw<
      [{ indexed: bigint }]
    >`SELECT count(*) AS indexed FROM chunks WHERE tsv IS NOT NULL`;
    expect(Number(indexed)).toBe(docs.reduce((s, d) => s + d.chunks.length, 0));
    const korean = docs.find((d) => d.source === 'd6')!;
    expect(korean.content).toContain('인공지능은');
  });

  it('refuses node ids from another taxonomy or malformed, naming them, and writes nothing', async () => {
    const a = await createCorpus(h);
    const b = await createCorpus(h);
    const before = await db().document.count();
    const response = await h.gql(IngestDocumentsMutation, {
      taxonomyVersion: a.version,
      documents: [
        { title: 'ok', content: 'fine', taxonomyNodeIds: [a.nodeIds.ml] },
        { title: 'foreign', content: 'x', taxonomyNodeIds: [b.nodeIds.ml] },
      ],
    });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    // Named as the caller sent them (global ids), with the argument.
    expect(response.errors![0]!.extensions).toMatchObject({
      argument: 'taxonomyNodeIds',
      invalidIds: [b.nodeIds.ml],
    });
    const malformed = await h.gql(IngestDocumentsMutation, {
      taxonomyVersion: a.version,
      documents: [{ title: 't', content: 'c', taxonomyNodeIds: ['garbage'] }],
    });
    expect(errorCodes(malformed)).toEqual(['BAD_USER_INPUT']);
    expect(malformed.errors![0]!.message).toContain('garbage');
    expect(await db().document.count()).toBe(before);
    expect(
      errorCodes(
        await h.gql(IngestDocumentsMutation, {
          taxonomyVersion: 'nope',
          documents: [{ title: 't', content: 'c', taxonomyNodeIds: [a.nodeIds.ml] }],
        }),
      ),
    ).toEqual(['NOT_FOUND']);
  });

  it('ingests 10,000 documents in one call', async () => {
    const corpus = await createCorpus(h);
    const documents = Array.from({ length: 10_000 }, (_, i) => ({
      title: `Bulk ${i}`,
      content: `Bulk document number ${i} about ${i % 2 ? 'vectors' : 'indexes'}.`,
      taxonomyNodeIds: [i % 3 ? corpus.nodeIds.pg : corpus.nodeIds.ml],
    }));
    const response = await h.gql(IngestDocumentsMutation, {
      taxonomyVersion: corpus.version,
      documents,
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!.ingestDocuments).toMatchObject({
      documentCount: 10_000,
      chunkCount: 10_000,
    });
    expect(new Set(response.data!.ingestDocuments.documentIds).size).toBe(10_000);
    expect(await db().document.count({ where: { title: { startsWith: 'Bulk ' } } })).toBe(10_000);
  });
});
