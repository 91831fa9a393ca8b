// Relay connections over keyset (seek) pagination: opaque cursors that carry the sort
// key of the last row, so pages stay stable while rows are added.
import { badUserInput } from './errors.js';
import { isStorableDate } from './date-time.js';
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
  throw notACursor();
}

/**
 * A cursor's whole number as PostgreSQL's integer holds it: a key past that range came from no
 * row, and comparing it to the column failed in the database (a fault of ours, not the caller's).
 */
export const isInt4 = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31;

/** The cursor refused: made by hand, or by another connection. */
export const notACursor = (field: 'after' | 'before' = 'after') =>
  badUserInput(`${field}: not a cursor of this connection`, { field });

/**
 * For Pothos's Prisma connections on a uuid `id` (cursors `GPC:S:<id>`, base64): `after` and
 * `before` refused unless they are such a cursor. Pothos decodes any tagged value (`GPC:N:5`,
 * `GPC:S:zzz`) and hands it to Prisma, which failed on it as a fault of ours.
 */
export function checkIdCursors(args: { after?: string | null; before?: string | null }): void {
  for (const field of ['after', 'before'] as const) {
    const cursor = args[field];
    if (cursor === null || cursor === undefined) continue;
    const decoded = Buffer.from(cursor, 'base64').toString('utf8');
    if (!decoded.startsWith('GPC:S:') || !isUuid(decoded.slice('GPC:S:'.length)))
      throw notACursor(field);
  }
}

/**
 * A Pothos Prisma connection's arguments checked as the other connections check theirs:
 * `first` and `last` at most MAX_PAGE_SIZE (Pothos's `maxSize` would cut a larger page short
 * without a word), and checkIdCursors.
 */
export function checkPrismaPage(args: {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}): void {
  for (const field of ['first', 'last'] as const) {
    const size = args[field];
    if (size !== null && size !== undefined && (size < 0 || size > MAX_PAGE_SIZE))
      throw badUserInput(`${field} must be between 0 and ${MAX_PAGE_SIZE}`, {
        field,
        max: MAX_PAGE_SIZE,
      });
  }
  checkIdCursors(args);
}

/**
 * A cursor's date: an ISO string of an instant a DateTime may name (date-time.ts), else
 * undefined (a hand-made cursor's year 0 reached PostgreSQL, which refused it).
 */
export function cursorDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return isStorableDate(date) ? date : undefined;
}

/**
 * For connections that page forward only (first, after): `last` and `before`, which the
 * Relay connection arguments include, refused rather than ignored.
 */
export function forwardOnly(args: { last?: number | null; before?: string | null }): void {
  for (const field of ['last', 'before'] as const) {
    if (args[field] !== null && args[field] !== undefined)
      throw badUserInput(
        `${field}: this connection pages forward only (first and after); ${field} is not supported`,
        { field },
      );
  }
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
  const cursor = decodeCursor<[unknown, unknown]>(after, 2);
  if (!cursor) return undefined;
  const createdAt = cursorDate(cursor[0]);
  if (!createdAt || !isUuid(cursor[1])) throw notACursor();
  return { createdAt, id: cursor[1] };
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
