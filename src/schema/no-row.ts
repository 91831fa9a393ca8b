// A prismaField with no row to load answers null, legally. Pothos's unused-query check (on
// outside production, to catch a forgotten `...query`) cannot tell that from a forgotten
// spread; reading the query's keys tells it this field looked and found nothing to load.
export function noRow(query: object): null {
  for (const key of Object.keys(query)) void (query as Record<string, unknown>)[key];
  return null;
}
