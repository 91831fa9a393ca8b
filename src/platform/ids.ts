// Relay global ids (`Type:uuid`, base64) in and out of the domain services.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { badUserInput } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Row ids (in cursors, in node ids) are checked before they reach a uuid column. */
export const isUuid = (value: unknown): value is string =>
  typeof value === 'string' && UUID.test(value);

export const toGlobalId = (typename: string, id: string) => encodeGlobalID(typename, id);

/** The row id behind a global id of that type, or undefined when it is malformed or of another type. */
export function parseGlobalId(typename: string, globalId: string): string | undefined {
  try {
    const decoded = decodeGlobalID(globalId);
    return decoded.typename === typename && UUID.test(decoded.id) ? decoded.id : undefined;
  } catch {
    return undefined;
  }
}

/** Row ids for a list of global ids; BAD_USER_INPUT naming every one that is not a `typename` id. */
export function parseGlobalIds(
  typename: string,
  globalIds: readonly string[],
  field: string,
): string[] {
  const bad: string[] = [];
  const ids = globalIds.map((globalId) => {
    const id = parseGlobalId(typename, globalId);
    if (!id) bad.push(globalId);
    return id ?? '';
  });
  if (bad.length)
    throw badUserInput(`${field}: not ${typename} ids: ${bad.join(', ')}`, { invalidIds: bad });
  return ids;
}

/** An id no row has: a lookup of a malformed or foreign-typed id runs like any other and finds nothing. */
export const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';

/** The row id behind a global id of that type, or NO_ROW_ID. */
export const rowIdOrNone = (typename: string, globalId: string) =>
  parseGlobalId(typename, globalId) ?? NO_ROW_ID;

/** A row id as a lookup: a malformed one finds nothing (instead of a uuid cast error from PostgreSQL). */
export const rowIdWhere = (rowId: string) => ({ id: isUuid(rowId) ? rowId : NO_ROW_ID });
