// Relay connections over keyset (seek) pagination: opaque cursors that carry the sort
// key of the last row, so pages stay stable while rows are added.
import { badUserInput } from './errors.js';
import { isUuid } from './ids.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export function pageSize(
  first: number | null | undefined,
  max = MAX_PAGE_SIZE,
  fallback = DEFAULT_PAGE_SIZE,
): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 0)
    throw badUserInput('first must be a non-negative integer', { field: 'first' });
  if (first > max) throw badUserInput(`first must be at most ${max}`, { field: 'first', max });
  return first;
}

export function encodeCursor(values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor<T extends unknown[]>(
  cursor: string | null | undefined,
  arity: number,
): T | undefined {
  if (!cursor) return undefined;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === arity) return values as T;
  } catch {
    // fall through
  }
  throw badUserInput('after: not a cursor of this connection', { field: 'after' });
}

/**
 * The rows past `after` of a connection newest first on (createdAt, id): the keyset condition,
 * undefined on the first page; BAD_USER_INPUT for a cursor that is not of such a connection.
 */
export function newestFirstAfter(after: string | null | undefined) {
  const key = newestFirstAfterKey(after);
  if (!key) return undefined;
  const { createdAt, id } = key;
  return { OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] };
}

/** The (createdAt, id) of a newest-first connection's cursor; undefined on the first page. */
export function newestFirstAfterKey(
  after: string | null | undefined,
): { createdAt: Date; id: string } | undefined {
  const cursor = decodeCursor<[string, string]>(after, 2);
  if (!cursor) return undefined;
  if (!isUuid(cursor[1]) || Number.isNaN(Date.parse(cursor[0])))
    throw badUserInput('after: not a cursor of this connection', { field: 'after' });
  return { createdAt: new Date(cursor[0]), id: cursor[1] };
}

/** The cursor of a row of a newest-first (createdAt, id) connection. */
export const newestFirstCursor = (row: { createdAt: Date; id: string }) => [
  row.createdAt.toISOString(),
  row.id,
];

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

/** `rows` was fetched with limit + 1: the extra row only says there is a next page. */
export function connectionFromRows<T>(
  rows: readonly T[],
  limit: number,
  after: string | null | undefined,
  cursorOf: (row: T) => unknown[],
): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: Boolean(after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
