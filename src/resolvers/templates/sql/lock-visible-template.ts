// Takes the row lock on a template the caller may see, inside a rating transaction: every
// rating of one template then recomputes the aggregate one after another, each statement
// seeing the ratings committed before it (READ COMMITTED takes a new snapshot per statement).
import type { PrismaClient } from '../../../generated/prisma/client.js';

type Queryable = Pick<PrismaClient, '$queryRaw'>;

/** The owner of the locked template, or undefined when it is gone or not visible to the user. */
export async function lockVisibleTemplate(
  client: Queryable,
  templateId: string,
  userId: string,
): Promise<{ ownerId: string | null } | undefined> {
  const rows = await client.$queryRaw<Array<{ ownerId: string | null }>>`
    SELECT "ownerId"::text AS "ownerId" FROM "templates"
    WHERE "id" = ${templateId}::uuid AND ("isPublic" OR "ownerId" = ${userId}::uuid)
    FOR UPDATE`;
  return rows[0];
}
