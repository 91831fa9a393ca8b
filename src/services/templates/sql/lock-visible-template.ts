// Takes the row lock on a template the caller may see, inside a rating transaction: every
// rating of one template then recomputes the aggregate one after another, each statement
// seeing the ratings committed before it (READ COMMITTED takes a new snapshot per statement).
import type { Queryable } from '../../../platform/db.js';

/**
 * The owner of the locked template, or undefined when it is gone or not visible: public, or
 * of one of `teams` (undefined: every team, the operator's view).
 */
export async function lockVisibleTemplate(
  client: Queryable,
  templateId: string,
  teams: readonly string[] | undefined,
): Promise<{ ownerId: string | null } | undefined> {
  const teamIds = teams ? [...teams] : null;
  const rows = await client.$queryRaw<Array<{ ownerId: string | null }>>`
    SELECT "ownerId"::text AS "ownerId" FROM "templates"
    WHERE "id" = ${templateId}::uuid
      AND ("isPublic" OR ${teamIds}::uuid[] IS NULL OR "teamId" = ANY (${teamIds}::uuid[]))
    FOR UPDATE`;
  return rows[0];
}
