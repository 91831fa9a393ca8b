// Ingesting documents: classified into taxonomy nodes, split into chunks, indexed for
// full-text search by the chunks_tsv trigger. Batched: one transaction and three
// set-based INSERTs (unnest of arrays) per batch, never a round trip per row.
import { randomUUID } from 'node:crypto';
import { db } from '../../platform/db.js';
import { badUserInput, InvalidIdsError, notFound } from '../../platform/errors.js';
import { chunkText } from './chunking.js';
import { isUuid } from '../../platform/ids.js';
import type { Caller } from '../auth/caller.js';
import { requireWrite } from '../auth/permissions.js';
import { documentVisibleTo } from '../auth/visibility.js';
import { findVisibleTaxonomy } from './lookup.js';
import { announceChanges } from '../../platform/changes.js';

export interface DocumentInput {
  title: string;
  content: string;
  /** Row ids. */
  taxonomyNodeIds: string[];
  source?: string | null;
}

export const INGEST_BATCH_SIZE = 1_000;
export const MAX_DOCUMENTS_PER_CALL = 10_000;

/** The node ids of each document, all of them in the taxonomy; BAD_USER_INPUT naming what is wrong. */
async function validNodeIds(
  taxonomy: { id: string; version: string },
  documents: readonly DocumentInput[],
): Promise<string[][]> {
  const nodeIdsPerDocument = documents.map((doc, index) => {
    if (!doc.title.trim())
      throw badUserInput(`documents[${index}].title must not be empty`, { field: 'title' });
    if (!doc.content.trim())
      throw badUserInput(`documents[${index}].content must not be empty`, { field: 'content' });
    if (doc.taxonomyNodeIds.length === 0)
      throw badUserInput(`documents[${index}].taxonomyNodeIds must not be empty`, {
        field: 'taxonomyNodeIds',
      });
    return [...new Set(doc.taxonomyNodeIds)];
  });
  const wanted = [...new Set(nodeIdsPerDocument.flat())];
  const found = await db().taxonomyNode.findMany({
    where: { id: { in: wanted }, taxonomyId: taxonomy.id },
    select: { id: true },
  });
  if (found.length !== wanted.length) {
    const known = new Set(found.map((n) => n.id));
    throw new InvalidIdsError(
      `taxonomyNodeIds not in taxonomy ${taxonomy.version}`,
      wanted.filter((id) => !known.has(id)),
      'taxonomyNodeIds',
    );
  }
  return nodeIdsPerDocument;
}

/** One batch as columns (documents, their node links, their chunks), for unnest inserts. */
function batchColumns(batch: readonly DocumentInput[], nodeIds: readonly string[][]) {
  const docs = {
    id: [] as string[],
    title: [] as string[],
    content: [] as string[],
    source: [] as (string | null)[],
    chunks: [] as number[],
  };
  const links = { documentId: [] as string[], nodeId: [] as string[] };
  const chunks = {
    id: [] as string[],
    documentId: [] as string[],
    ordinal: [] as number[],
    content: [] as string[],
  };
  batch.forEach((doc, offset) => {
    const id = randomUUID();
    const pieces = chunkText(doc.content);
    docs.id.push(id);
    docs.title.push(doc.title.trim());
    docs.content.push(doc.content);
    docs.source.push(doc.source ?? null);
    docs.chunks.push(pieces.length);
    for (const nodeId of nodeIds[offset]!) {
      links.documentId.push(id);
      links.nodeId.push(nodeId);
    }
    pieces.forEach((piece, ordinal) => {
      chunks.id.push(randomUUID());
      chunks.documentId.push(id);
      chunks.ordinal.push(ordinal);
      chunks.content.push(piece);
    });
  });
  return { docs, links, chunks };
}

/**
 * One batch in one transaction: three set-based inserts. Returns the documents' ids and the
 * chunk count. The search classes of the batch's node sets are made first, committed on their
 * own (see search_ensure_classes in the migrations: inside the transaction they could deadlock).
 */
const INGEST_TRANSACTION = { maxWait: 10_000, timeout: 60_000 };

async function insertBatch(
  taxonomyId: string,
  batch: readonly DocumentInput[],
  nodeIds: readonly string[][],
): Promise<{ ids: string[]; chunks: number }> {
  const { docs, links, chunks } = batchColumns(batch, nodeIds);
  await db()
    .$executeRaw`SELECT search_ensure_classes(${taxonomyId}::uuid, ${JSON.stringify(nodeIds)}::jsonb)`;
  // Interactive, for its timeout: the chunks' trigger indexes them in the same statement, which
  // outlasts Prisma's 5 s default on a busy host.
  await db().$transaction(async (tx) => {
    await tx.$executeRaw`
      INSERT INTO documents (id, "taxonomyId", title, content, source, "chunkCount")
      SELECT id, ${taxonomyId}::uuid, title, content, source, chunk_count
      FROM unnest(${docs.id}::uuid[], ${docs.title}::text[], ${docs.content}::text[], ${docs.source}::text[],
                  ${docs.chunks}::int[])
        AS d(id, title, content, source, chunk_count)`;
    await tx.$executeRaw`
      INSERT INTO document_nodes ("documentId", "nodeId")
      SELECT * FROM unnest(${links.documentId}::uuid[], ${links.nodeId}::uuid[])`;
    await tx.$executeRaw`
      INSERT INTO chunks (id, "documentId", ordinal, content)
      SELECT * FROM unnest(${chunks.id}::uuid[], ${chunks.documentId}::uuid[], ${chunks.ordinal}::int[],
                           ${chunks.content}::text[])`;
  }, INGEST_TRANSACTION);
  return { ids: docs.id, chunks: chunks.id.length };
}

/** Into the taxonomy of that version the caller sees (taxonomy/lookup.ts); needs write in its team. */
export async function ingestDocuments(
  taxonomyVersion: string,
  documents: readonly DocumentInput[],
  caller: Caller,
) {
  if (documents.length === 0)
    throw badUserInput('documents must not be empty', { field: 'documents' });
  if (documents.length > MAX_DOCUMENTS_PER_CALL)
    throw badUserInput(`at most ${MAX_DOCUMENTS_PER_CALL} documents per call`, {
      field: 'documents',
    });
  const taxonomy = await findVisibleTaxonomy(taxonomyVersion, caller);
  if (!taxonomy) throw notFound(`Taxonomy version ${taxonomyVersion}`);
  requireWrite(caller, taxonomy.teamId, 'Taxonomy');
  const nodeIdsPerDocument = await validNodeIds(taxonomy, documents);
  let chunkCount = 0;
  const documentIds: string[] = [];
  try {
    for (let start = 0; start < documents.length; start += INGEST_BATCH_SIZE) {
      const end = start + INGEST_BATCH_SIZE;
      const inserted = await insertBatch(
        taxonomy.id,
        documents.slice(start, end),
        nodeIdsPerDocument.slice(start, end),
      );
      documentIds.push(...inserted.ids);
      chunkCount += inserted.chunks;
    }
  } finally {
    // Search answers change with the documents (also when a later batch failed).
    if (documentIds.length) await announceChanges({ kind: 'corpus.changed' });
  }
  return { documentIds, documentCount: documents.length, chunkCount };
}

/**
 * Deletes the documents and (by cascade) their chunks, whose trigger takes them out of the
 * search index. Documents the caller does not see are NOT_FOUND; seen but of a taxonomy whose
 * team the caller may not change, FORBIDDEN.
 */
export async function deleteDocuments(ids: readonly string[], caller: Caller) {
  if (ids.length === 0) throw badUserInput('ids must not be empty', { field: 'ids' });
  if (ids.length > MAX_DOCUMENTS_PER_CALL)
    throw badUserInput(`at most ${MAX_DOCUMENTS_PER_CALL} ids per call`, { field: 'ids' });
  const unique = [...new Set(ids)];
  const malformed = unique.filter((id) => !isUuid(id));
  if (malformed.length) throw notFound(`Document ${malformed[0]}`);
  const deleted = await db().$transaction(async (tx) => {
    const found = await tx.document.findMany({
      where: { AND: [{ id: { in: unique } }, documentVisibleTo(caller)] },
      select: { id: true, chunkCount: true, taxonomy: { select: { teamId: true } } },
    });
    if (found.length !== unique.length) {
      const known = new Set(found.map((d) => d.id));
      throw notFound(`Document ${unique.find((id) => !known.has(id))}`);
    }
    for (const teamId of new Set(found.map((d) => d.taxonomy.teamId)))
      requireWrite(caller, teamId, 'Document', true);
    await tx.document.deleteMany({ where: { id: { in: unique } } });
    return {
      documentCount: found.length,
      chunkCount: found.reduce((sum, d) => sum + d.chunkCount, 0),
    };
  });
  await announceChanges({ kind: 'corpus.changed' });
  return deleted;
}
