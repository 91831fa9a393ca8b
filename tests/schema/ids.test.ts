// Global ids: the schema's (Pothos relay) and the public ids workers write (webhook bodies,
// stored JSON) must stay one format, so a client can pass either back to the API.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NO_ROW_ID } from '../../src/platform/ids.js';
import { publicId } from '../../src/platform/public-ids.js';
import { parseGlobalId, rowIdOrNone, toGlobalId } from '../../src/schema/ids.js';

describe('global ids', () => {
  it('writes public ids as the schema encodes global ids, and reads them back', () => {
    const rowId = randomUUID();
    expect(publicId('TaxonomyNode', rowId)).toBe(toGlobalId('TaxonomyNode', rowId));
    expect(parseGlobalId('TaxonomyNode', publicId('TaxonomyNode', rowId))).toBe(rowId);
  });

  it('finds no row for a malformed or foreign-typed id', () => {
    const rowId = randomUUID();
    expect(parseGlobalId('Agent', toGlobalId('Task', rowId))).toBeUndefined();
    expect(parseGlobalId('Agent', toGlobalId('Agent', 'not-a-uuid'))).toBeUndefined();
    expect(rowIdOrNone('Agent', 'not-an-id')).toBe(NO_ROW_ID);
  });
});
