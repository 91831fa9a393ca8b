// Trusted documents are addressed by the sha256 of their text, as GraphQL Code Generator's
// client preset writes them ("sha256:<hex>", graphql-over-http's persisted documents appendix)
// and Apollo's persisted queries send them (extensions.persistedQuery.sha256Hash: bare hex).
import { createHash } from 'node:crypto';

/** The registry's key for a document's text: its sha256, lowercase hex. */
export const documentHash = (document: string): string =>
  createHash('sha256').update(document).digest('hex');

const SHA256_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/;

/** The registry's key for a client's document id ("sha256:<hex>" or bare hex); undefined for any other form. */
export function hashOfDocumentId(id: string): string | undefined {
  return SHA256_ID.exec(id)?.[1]?.toLowerCase();
}
