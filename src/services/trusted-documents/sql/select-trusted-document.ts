// A trusted document's text by its hash (the primary key); per request only on a cache miss.
import { PREPARED, type Queryable } from '../../../platform/db.js';

export async function selectTrustedDocument(
  client: Queryable,
  hash: string,
): Promise<string | undefined> {
  const rows = await client.$queryRaw<Array<{ document: string }>>`${PREPARED}
    SELECT document FROM trusted_documents WHERE hash = ${hash}`;
  return rows[0]?.document;
}
