// One render = one use. The increment happens in SQL so that
// concurrent renders never lose an update (no read-modify-write in the application).
// Raw SQL also leaves "updatedAt" alone: using a template does not edit it.
import type { Queryable } from '../../../platform/db.js';

/** false when the template no longer exists. */
export async function incrementTemplateUsage(
  client: Queryable,
  templateId: string,
): Promise<boolean> {
  const updated = await client.$executeRaw`
    UPDATE "templates" SET "usageCount" = "usageCount" + 1 WHERE "id" = ${templateId}::uuid`;
  return updated === 1;
}
