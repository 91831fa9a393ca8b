// Row ids (uuids) as services take them: checked before they reach a uuid column.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Row ids (in cursors, in node ids) are checked before they reach a uuid column. */
export const isUuid = (value: unknown): value is string =>
  typeof value === 'string' && UUID.test(value);

/** An id no row has: a lookup of a malformed or foreign-typed id runs like any other and finds nothing. */
export const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';

/** A row id as a lookup: a malformed one finds nothing (instead of a uuid cast error from PostgreSQL). */
export const rowIdWhere = (rowId: string) => ({ id: isUuid(rowId) ? rowId : NO_ROW_ID });
