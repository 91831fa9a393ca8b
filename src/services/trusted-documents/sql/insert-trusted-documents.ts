// Registers documents in one statement; a hash already there keeps its row (the same text,
// since the key is the text's hash) and is reported as known.
import type { Queryable } from '../../../platform/db.js';

export interface NewTrustedDocument {
  hash: string;
  document: string;
}

/** The hashes this statement added (the others were registered before). */
export async function insertTrustedDocuments(
  client: Queryable,
  documents: readonly NewTrustedDocument[],
  registeredById: string | null,
  source: 'manifest' | 'mutation',
): Promise<string[]> {
  const rows = await client.$queryRaw<Array<{ hash: string }>>`
    INSERT INTO trusted_documents (hash, document, "registeredById", source)
    SELECT hash, document, ${registeredById}::uuid, ${source}
    FROM unnest(${documents.map((d) => d.hash)}::text[], ${documents.map((d) => d.document)}::text[])
      AS given(hash, document)
    ON CONFLICT (hash) DO NOTHING
    RETURNING hash`;
  return rows.map((row) => row.hash);
}
