// Relay global ids (`Type:uuid`, base64) in and out of the schema: arguments are decoded
// here into the row ids services take, and rows' ids encoded on the way out. Not Pothos'
// `t.arg.globalID`: it answers a malformed or foreign-typed id with its own validation error,
// where the contract says NOT_FOUND (or null) for one id, and names the bad ones in a list.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { InvalidIdsError } from '../platform/errors.js';
import { isUuid, NO_ROW_ID } from '../platform/ids.js';

export const toGlobalId = (typename: string, rowId: string) => encodeGlobalID(typename, rowId);

/** The row id behind a global id of that type, or undefined when it is malformed or of another type. */
export function parseGlobalId(typename: string, globalId: string): string | undefined {
  try {
    const decoded = decodeGlobalID(globalId);
    return decoded.typename === typename && isUuid(decoded.id) ? decoded.id : undefined;
  } catch {
    return undefined;
  }
}

/** The row id behind a global id of that type, or NO_ROW_ID (a lookup that finds nothing). */
export const rowIdOrNone = (typename: string, globalId: string) =>
  parseGlobalId(typename, globalId) ?? NO_ROW_ID;

/** rowIdOrNone for an optional argument: an absent (or empty) one stays absent. */
export const optionalRowId = (typename: string, globalId: string | null | undefined) =>
  globalId ? rowIdOrNone(typename, globalId) : null;

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
  if (bad.length) throw new InvalidIdsError(`${field}: not ${typename} ids`, bad, field);
  return ids;
}

/**
 * Runs a service given `rowIds`, decoded from the caller's `globalIds` in the same order: the
 * ids it refuses (an InvalidIdsError of row ids) are named as the caller wrote them.
 */
export async function namingGlobalIds<T>(
  globalIds: readonly string[],
  rowIds: readonly string[],
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof InvalidIdsError)) throw error;
    const refused = new Set(error.ids);
    throw new InvalidIdsError(
      error.problem,
      globalIds.filter((_, index) => refused.has(rowIds[index]!)),
      error.argument,
    );
  }
}
