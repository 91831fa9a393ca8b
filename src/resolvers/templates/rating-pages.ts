// Template.ratings: newest first, keyset cursors [createdAt, userId]. Every template of a
// response that asks for the same page is served by one statement (sql/select-template-ratings.ts).
// The batching is a few lines by hand because `dataloader` is not a dependency of this package.
import { db } from '../../platform/db.js';
import { badUserInput } from '../../platform/errors.js';
import { connectionFromRows, decodeCursor, pageSize } from '../../platform/pagination.js';
import { isUuid } from '../../platform/ids.js';
import { selectTemplateRatings, type TemplateRatingRow } from './sql/select-template-ratings.js';

export interface RatingPageArgs {
  first?: number | null;
  after?: string | null;
}

interface RatingPage {
  limit: number;
  cursor: { createdAt: Date; userId: string } | undefined;
}

function ratingPage(args: RatingPageArgs): RatingPage {
  const limit = pageSize(args.first);
  const cursor = decodeCursor<[unknown, unknown]>(args.after, 2);
  if (!cursor) return { limit, cursor: undefined };
  const [createdAt, userId] = cursor;
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt)) || !isUuid(userId)) {
    throw badUserInput('after: not a cursor of this connection');
  }
  return { limit, cursor: { createdAt: new Date(createdAt), userId } };
}

interface Batch {
  templateIds: Set<string>;
  rows: Promise<Map<string, TemplateRatingRow[]>>;
}

// Per request (the GraphQL context) and per page asked for; a batch closes when it is sent.
const pending = new WeakMap<object, Map<string, Batch>>();

function batchFor(scope: object, page: RatingPage): Batch {
  const key = JSON.stringify(page);
  let batches = pending.get(scope);
  if (!batches) pending.set(scope, (batches = new Map()));
  const open = batches.get(key);
  if (open) return open;
  const templateIds = new Set<string>();
  const rows = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
    batches.delete(key);
    const found = await selectTemplateRatings(db(), [...templateIds], page.cursor, page.limit + 1);
    const byTemplate = new Map<string, TemplateRatingRow[]>();
    for (const row of found)
      byTemplate.set(row.templateId, [...(byTemplate.get(row.templateId) ?? []), row]);
    return byTemplate;
  });
  const batch = { templateIds, rows };
  batches.set(key, batch);
  return batch;
}

/**
 * One page of a template's ratings. `scope` is the request's context object; the total is
 * the template's ratingCount, which rateTemplate keeps equal to the rows.
 */
export async function templateRatingsPage(
  scope: object,
  template: { id: string; ratingCount: number },
  args: RatingPageArgs,
) {
  const page = ratingPage(args);
  const batch = batchFor(scope, page);
  batch.templateIds.add(template.id);
  const rows = (await batch.rows).get(template.id) ?? [];
  return {
    ...connectionFromRows(rows, page.limit, args.after, (row) => [
      row.createdAt.toISOString(),
      row.userId,
    ]),
    totalCount: template.ratingCount,
  };
}
