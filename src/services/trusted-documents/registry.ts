// The trusted documents as one API process reads them: from PostgreSQL (shared by every
// process) through a cache. A row never changes (its key is its text's hash), so a found
// document is kept; a miss is not, since another process may register it the next moment.
import { db } from '../../platform/db.js';
import { documentHash, hashOfDocumentId } from './hash.js';
import { selectTrustedDocument } from './sql/select-trusted-document.js';

/** Documents kept per process; past it the cache starts again (a frontend has far fewer). */
const MAX_CACHED = 10_000;

export class TrustedDocumentRegistry {
  private readonly cache = new Map<string, string>();

  /** The document a client's id names ("sha256:<hex>" or bare hex), if it is registered. */
  async find(documentId: string): Promise<string | undefined> {
    const hash = hashOfDocumentId(documentId);
    if (!hash) return undefined;
    const cached = this.cache.get(hash);
    if (cached !== undefined) return cached;
    const document = await selectTrustedDocument(db(), hash);
    if (document !== undefined) this.remember(hash, document);
    return document;
  }

  /** Whether this very text is registered (a client that sends the trusted document itself). */
  async contains(document: string): Promise<boolean> {
    const hash = documentHash(document);
    if (this.cache.has(hash)) return true;
    return (await this.find(hash)) === document;
  }

  private remember(hash: string, document: string): void {
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(hash, document);
  }
}
