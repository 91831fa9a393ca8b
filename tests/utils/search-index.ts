// The search index's one tunable for tests: nodes keep their document frequencies from this
// many chunks (2,000 in the migrations), so a small corpus has nodes of both kinds. It is a
// SQL function of the test file's own database.
import { db } from '../../src/platform/db.js';

export async function keepTermsFrom(chunks: number): Promise<void> {
  await db().$executeRawUnsafe(
    `CREATE OR REPLACE FUNCTION search_terms_kept_from() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT ${chunks} $$`,
  );
}
