// Template.ratings: newest first, keyset cursors [createdAt, userId]. Every template of a
// response that asks for the same page is served by one statement (sql/select-template-ratings.ts).
import { db } from '../../platform/db.js';
import {
  connectionFromRows,
  cursorDate,
  decodeCursor,
  notACursor,
  pageSize,
} from '../../platform/pagination.js';
import { isUuid } from '../../platform/ids.js';
import { groupBy, loadInBatch } from './request-batch.js';
import { selectTemplateRatings } from './sql/select-template-ratings.js';

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
  const createdAt = cursorDate(cursor[0]);
  const userId = cursor[1];
  if (!createdAt || !isUuid(userId)) throw notACursor();
  return { limit, cursor: { createdAt, userId } };
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
  const load = async (templateIds: string[]) =>
    groupBy(
      await selectTemplateRatings(db(), templateIds, page.cursor, page.limit + 1),
      (row) => row.templateId,
    );
  const rows =
    (await loadInBatch(scope, `ratings:${JSON.stringify(page)}`, template.id, load)) ?? [];
  return {
    ...connectionFromRows(rows, page.limit, args.after, (row) => [
      row.createdAt.toISOString(),
      row.userId,
    ]),
    totalCount: template.ratingCount,
  };
}
