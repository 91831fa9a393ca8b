// Template search: text search, filters, three
// orders and keyset pagination on the order's key. Only templates the caller may see.
//
// Indexes (prisma/schema.prisma): the public rows of each order walk (isPublic, createdAt, id),
// (usageCount, id) or (ratingAverage, id); the private rows of each of the caller's teams
// (teamId, createdAt, id); name
// ILIKE can use templates_name_trgm_idx and tags @> templates_tags_idx. description has no
// trigram index, so a text search filters rows as it walks the order's index (fine while
// matches are common; a rare term reads the whole index): a description trigram index fixes it.
import { readDb } from '../../platform/replicas.js';
import { badUserInput } from '../../platform/errors.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { TemplateCategory } from '../../generated/prisma/enums.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds } from '../auth/permissions.js';
import {
  connectionFromRows,
  cursorDate,
  decodeCursor,
  isInt4,
  pageSize,
} from '../../platform/pagination.js';
import { isUuid } from '../../platform/ids.js';
import { normaliseTags } from './templates.js';

export type TemplateOrder = 'NEWEST' | 'RATING' | 'USAGE';

export interface TemplateFilter {
  category?: TemplateCategory | null;
  /** Every given tag must be present. */
  tags?: readonly string[] | null;
  isPublic?: boolean | null;
  isOfficial?: boolean | null;
  isFeatured?: boolean | null;
  /** true: those the caller made; false: everyone else's. */
  mine?: boolean | null;
}

export interface TemplateListArgs {
  search?: string | null;
  filter?: TemplateFilter | null;
  orderBy?: TemplateOrder | null;
  first?: number | null;
  after?: string | null;
}

const MAX_SEARCH = 200;

/** Case-insensitive: a substring of the name or description, or exactly one of the tags. */
function searchWhere(search: string | null | undefined): Prisma.TemplateWhereInput {
  const text = search?.trim();
  if (!text) return {};
  if (text.length > MAX_SEARCH)
    throw badUserInput(`search must be at most ${MAX_SEARCH} characters`, { field: 'search' });
  // Prisma passes `contains` into ILIKE unescaped: % and _ would be wildcards.
  const pattern = text.replace(/[\\%_]/g, '\\$&');
  return {
    OR: [
      { name: { contains: pattern, mode: 'insensitive' } },
      { description: { contains: pattern, mode: 'insensitive' } },
      // Tags are stored lower-case: an exact match keeps the GIN index usable.
      { tags: { has: text.toLowerCase() } },
    ],
  };
}

function filterWhere(
  filter: TemplateFilter | null | undefined,
  caller: Caller,
): Prisma.TemplateWhereInput[] {
  if (!filter) return [];
  const where: Prisma.TemplateWhereInput[] = [];
  if (filter.category != null) where.push({ category: filter.category });
  if (filter.tags?.length)
    where.push({ tags: { hasEvery: normaliseTags(filter.tags, 'filter.tags') } });
  if (filter.isPublic != null) where.push({ isPublic: filter.isPublic });
  if (filter.isOfficial != null) where.push({ isOfficial: filter.isOfficial });
  if (filter.isFeatured != null) where.push({ isFeatured: filter.isFeatured });
  if (filter.mine === true) where.push({ ownerId: caller.userId });
  if (filter.mine === false)
    where.push({ OR: [{ ownerId: null }, { ownerId: { not: caller.userId } }] });
  return where;
}

type SortKey = string | number | null;
type Cursor = { key: SortKey; id: string };
const KEY_COLUMNS = { id: true, createdAt: true, ratingAverage: true, usageCount: true } as const;
type KeyRow = { id: string; createdAt: Date; ratingAverage: number | null; usageCount: number };

/**
 * An order is read as segments, one after another, each matching an index's order exactly.
 * A seek is `key <= k AND (key < k OR id < i)`: the first half is an index condition, so a
 * deep page starts at its place in the index instead of filtering its way there.
 *
 * RATING reads the rated rows by (ratingAverage DESC, id DESC), then the unrated ones by id,
 * which is "NULLS LAST" without an index on that. Ties are broken by id, so the order is
 * total and a keyset cursor never skips or repeats a row.
 */
interface Segment {
  where: Prisma.TemplateWhereInput;
  orderBy: Prisma.TemplateOrderByWithRelationInput[];
  /** The segment's rows after the cursor; null when the whole segment lies before it. */
  after(cursor: Cursor): Prisma.TemplateWhereInput | null;
  /** The sort key as a number, to merge the visibility branches in the database's order. */
  rank(row: KeyRow): number;
}

const SEGMENTS: Record<TemplateOrder, Segment[]> = {
  NEWEST: [
    {
      where: {},
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      after: ({ key, id }) => ({
        createdAt: { lte: new Date(key as string) },
        OR: [{ createdAt: { lt: new Date(key as string) } }, { id: { lt: id } }],
      }),
      rank: (row) => row.createdAt.getTime(),
    },
  ],
  USAGE: [
    {
      where: {},
      orderBy: [{ usageCount: 'desc' }, { id: 'desc' }],
      after: ({ key, id }) => ({
        usageCount: { lte: key as number },
        OR: [{ usageCount: { lt: key as number } }, { id: { lt: id } }],
      }),
      rank: (row) => row.usageCount,
    },
  ],
  RATING: [
    {
      where: { ratingAverage: { not: null } },
      orderBy: [{ ratingAverage: 'desc' }, { id: 'desc' }],
      after: ({ key, id }) =>
        key === null
          ? null
          : {
              ratingAverage: { lte: key as number },
              OR: [{ ratingAverage: { lt: key as number } }, { id: { lt: id } }],
            },
      rank: (row) => row.ratingAverage!,
    },
    {
      where: { ratingAverage: null },
      orderBy: [{ id: 'desc' }],
      after: ({ key, id }) => (key === null ? { id: { lt: id } } : {}),
      rank: () => 0,
    },
  ],
};

function sortKey(order: TemplateOrder, row: KeyRow): SortKey {
  if (order === 'NEWEST') return row.createdAt.toISOString();
  return order === 'RATING' ? row.ratingAverage : row.usageCount;
}

/** The cursor carries the order it was made for, the sort key of the last row and its id. */
function decodeTemplateCursor(
  after: string | null | undefined,
  order: TemplateOrder,
): Cursor | undefined {
  const cursor = decodeCursor<[unknown, unknown, unknown]>(after, 3);
  if (!cursor) return undefined;
  const [cursorOrder, key, id] = cursor;
  if (cursorOrder !== order)
    throw badUserInput(
      `after: a cursor of another orderBy (${String(cursorOrder)}), not ${order}`,
      {
        field: 'after',
      },
    );
  const keyOk =
    order === 'NEWEST'
      ? cursorDate(key) !== undefined
      : order === 'RATING'
        ? key === null || typeof key === 'number'
        : isInt4(key);
  if (!keyOk || !isUuid(id))
    throw badUserInput('after: not a cursor of this connection', { field: 'after' });
  return { key: key as SortKey, id };
}

/** Past this many teams, their private rows are one branch (`teamId IN`) instead of one each. */
const MAX_TEAM_BRANCHES = 8;

/**
 * `isPublic OR teamId IN (caller's teams)` can use no index as one predicate; as branches each
 * has one: public rows walk the order's index, each team's private rows come in order from
 * (teamId, createdAt, id). One branch per team: with `teamId IN` the planner may walk
 * (isPublic, createdAt) instead, reading every private row of every team (bench/README.md).
 * The filter can rule branches out.
 */
function visibilityBranches(
  caller: Caller,
  filter: TemplateFilter | null | undefined,
): Prisma.TemplateWhereInput[] {
  const branches: Prisma.TemplateWhereInput[] = [];
  if (filter?.isPublic !== false) branches.push({ isPublic: true });
  if (filter?.isPublic === true) return branches;
  const teams = readableTeamIds(caller);
  if (!teams) branches.push({ isPublic: false });
  else if (teams.length > MAX_TEAM_BRANCHES)
    branches.push({ isPublic: false, teamId: { in: teams } });
  else for (const teamId of teams) branches.push({ isPublic: false, teamId });
  return branches;
}

const byIdDesc = (a: KeyRow, b: KeyRow) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The sort keys of the next `take` rows: per segment, each branch's top rows merged. */
async function pageKeys(
  order: TemplateOrder,
  branches: Prisma.TemplateWhereInput[],
  filters: Prisma.TemplateWhereInput[],
  cursor: Cursor | undefined,
  take: number,
) {
  const rows: KeyRow[] = [];
  for (const segment of SEGMENTS[order]) {
    const wanted = take - rows.length;
    if (wanted <= 0) break;
    const seek = cursor ? segment.after(cursor) : {};
    if (seek === null) continue;
    const parts = await Promise.all(
      branches.map((branch) =>
        readDb().template.findMany({
          where: { AND: [branch, segment.where, seek, ...filters] },
          orderBy: segment.orderBy,
          take: wanted,
          select: KEY_COLUMNS,
        }),
      ),
    );
    rows.push(
      ...parts
        .flat()
        .sort((a, b) => segment.rank(b) - segment.rank(a) || byIdDesc(a, b))
        .slice(0, wanted),
    );
  }
  return rows;
}

/**
 * Keys first (index-backed, a few columns), then the page's rows in one query with the
 * Pothos selection (`query`) spread, so parents load with the page. Cursors come from the
 * keys read, so a row whose usage or rating changes meanwhile cannot shift the page.
 */
export async function listTemplates(
  caller: Caller,
  args: TemplateListArgs,
  query: { include?: Prisma.TemplateInclude } = {},
) {
  const limit = pageSize(args.first);
  const order = args.orderBy ?? 'NEWEST';
  const cursor = decodeTemplateCursor(args.after, order);
  const filters = [searchWhere(args.search), ...filterWhere(args.filter, caller)];
  const branches = visibilityBranches(caller, args.filter);
  const [keys, totalCount] = await Promise.all([
    pageKeys(order, branches, filters, cursor, limit + 1),
    branches.length
      ? readDb().template.count({ where: { AND: [{ OR: branches }, ...filters] } })
      : 0,
  ]);
  const page = keys.slice(0, limit);
  const loaded = page.length
    ? await readDb().template.findMany({
        ...query,
        where: { id: { in: page.map((key) => key.id) } },
      })
    : [];
  const byId = new Map(loaded.map((row) => [row.id, row]));
  const connection = connectionFromRows(keys, limit, args.after, (key) => [
    order,
    sortKey(order, key),
    key.id,
  ]);
  // A row deleted between the two reads is left out of the page.
  const edges = connection.edges.flatMap(({ cursor: edgeCursor, node }) =>
    byId.has(node.id) ? [{ cursor: edgeCursor, node: byId.get(node.id)! }] : [],
  );
  return { ...connection, edges, totalCount };
}
