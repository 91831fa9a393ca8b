// Registering trusted documents: the operator's mutation and the manifest loaded at start.
// The schema layer has checked that each document is valid GraphQL for this schema; here
// each hash must be its document's, and the list is bounded.
import { db } from '../../platform/db.js';
import { BadInputError, forbidden } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { documentHash, hashOfDocumentId } from './hash.js';
import { insertTrustedDocuments } from './sql/insert-trusted-documents.js';

/** Per call: a frontend's manifest holds tens to hundreds. */
export const MAX_TRUSTED_DOCUMENTS_PER_CALL = 5_000;

export interface TrustedDocumentEntry {
  /** As the manifest writes it: "sha256:<hex>" (the client preset) or bare hex. */
  hash: string;
  document: string;
}

export interface RegisteredDocuments {
  registered: number;
  alreadyRegistered: number;
}

/** The entries keyed by their hash, or BAD_USER_INPUT naming the first that does not match. */
function checkedEntries(entries: readonly TrustedDocumentEntry[]) {
  if (entries.length === 0) throw new BadInputError('no documents given', {}, 'documents');
  if (entries.length > MAX_TRUSTED_DOCUMENTS_PER_CALL)
    throw new BadInputError(
      `at most ${MAX_TRUSTED_DOCUMENTS_PER_CALL} documents per call`,
      {},
      'documents',
    );
  const byHash = new Map<string, string>();
  for (const [index, { hash, document }] of entries.entries()) {
    const key = hashOfDocumentId(hash);
    if (!key)
      throw new BadInputError(
        `documents[${index}].hash: not a sha256 document id ("sha256:<64 hex digits>")`,
        { hash },
        'documents',
      );
    if (key !== documentHash(document))
      throw new BadInputError(
        `documents[${index}].hash: not the sha256 of its document`,
        { hash },
        'documents',
      );
    byHash.set(key, document);
  }
  return [...byHash].map(([hash, document]) => ({ hash, document }));
}

/** Adds documents to the shared registry; those already there are counted, not changed. */
export async function registerTrustedDocuments(
  entries: readonly TrustedDocumentEntry[],
  registrant: { caller: Pick<Caller, 'isOperator' | 'userId'> } | { manifest: true },
): Promise<RegisteredDocuments> {
  if ('caller' in registrant && !registrant.caller.isOperator)
    throw forbidden('Only the operator registers trusted documents');
  const documents = checkedEntries(entries);
  const added = await insertTrustedDocuments(
    db(),
    documents,
    'caller' in registrant ? registrant.caller.userId : null,
    'caller' in registrant ? 'mutation' : 'manifest',
  );
  return { registered: added.length, alreadyRegistered: documents.length - added.length };
}
