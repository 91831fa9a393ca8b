// TRUSTED_DOCUMENTS_MANIFEST: the persisted-documents manifest of GraphQL Code Generator's
// client preset (a JSON object of "sha256:<hex>" → document), registered when an API process
// starts. Every process may load the same file: a document already there is left as it is.
import { readFile } from 'node:fs/promises';
import { DomainError } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup-failure.js';
import {
  MAX_TRUSTED_DOCUMENTS_PER_CALL,
  registerTrustedDocuments,
  type RegisteredDocuments,
  type TrustedDocumentEntry,
} from '../../services/trusted-documents/register.js';
import { invalidTrustedDocument } from '../../schema/document-check.js';
import { schema } from '../../schema/index.js';

async function readManifest(file: string): Promise<TrustedDocumentEntry[]> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new StartupError(
      `cannot read TRUSTED_DOCUMENTS_MANIFEST ${file}: ${(error as Error).message}`,
    );
  }
  const entries =
    manifest && typeof manifest === 'object' && !Array.isArray(manifest)
      ? Object.entries(manifest)
      : [];
  if (!entries.length || entries.some(([, document]) => typeof document !== 'string'))
    throw new StartupError(
      `TRUSTED_DOCUMENTS_MANIFEST ${file}: must be a JSON object of hash → document (the ` +
        `client preset's persisted-documents.json)`,
    );
  return entries.map(([hash, document]) => ({ hash, document: document as string }));
}

/** Registers the manifest's documents (when one is set); a bad manifest stops the start with the reason. */
export async function loadTrustedDocumentsManifest({
  manifestPath: file,
}: {
  manifestPath: string | undefined;
}): Promise<RegisteredDocuments | undefined> {
  if (!file) return undefined;
  const entries = await readManifest(file);
  const invalid = invalidTrustedDocument(schema, entries);
  if (invalid) throw new StartupError(`TRUSTED_DOCUMENTS_MANIFEST ${file}: ${invalid.message}`);
  const total = { registered: 0, alreadyRegistered: 0 };
  for (let start = 0; start < entries.length; start += MAX_TRUSTED_DOCUMENTS_PER_CALL) {
    const batch = entries.slice(start, start + MAX_TRUSTED_DOCUMENTS_PER_CALL);
    const done = await registerTrustedDocuments(batch, { manifest: true }).catch((error) => {
      if (!(error instanceof DomainError)) throw error;
      throw new StartupError(`TRUSTED_DOCUMENTS_MANIFEST ${file}: ${error.message}`);
    });
    total.registered += done.registered;
    total.alreadyRegistered += done.alreadyRegistered;
  }
  logger.info({ file, ...total }, 'trusted documents manifest loaded');
  return total;
}
