// One delivery attempt's outcome at an integration plugin's endpoint: a failure counts one
// more in a row, a success resets the count (written only when there is one to reset, so a
// healthy plugin's deliveries write nothing here). The failure that reaches the limit turns
// the plugin DISABLED_AFTER_FAILURES, its endpoint off and the audit row, in this statement.
import { PREPARED, type Queryable } from '../../../platform/db.js';

export interface DeliveryOutcomeRow {
  id: string;
  status: string;
  consecutiveFailures: number;
  /** This failure is the one that disabled it. */
  disabledNow: boolean;
}

export async function recordDeliveryOutcome(
  client: Queryable,
  endpointId: string,
  succeeded: boolean,
  limit: number,
): Promise<DeliveryOutcomeRow | undefined> {
  const rows = await client.$queryRaw<DeliveryOutcomeRow[]>`${PREPARED}
    WITH updated AS (
      UPDATE plugin_installations p SET
        "consecutiveFailures" = CASE WHEN ${succeeded} THEN 0 ELSE p."consecutiveFailures" + 1 END,
        status = CASE
          WHEN NOT ${succeeded} AND p.status = 'ACTIVE' AND p."consecutiveFailures" + 1 >= ${limit}::int
          THEN 'DISABLED_AFTER_FAILURES'::"PluginStatus" ELSE p.status END
      FROM (
        SELECT id, status FROM plugin_installations
        WHERE "webhookEndpointId" = ${endpointId}::uuid FOR UPDATE
      ) before
      WHERE p.id = before.id AND (NOT ${succeeded} OR p."consecutiveFailures" > 0)
      RETURNING p.id, p."teamId", p.status::text AS status, p."consecutiveFailures",
        p."webhookEndpointId",
        (before.status = 'ACTIVE' AND p.status = 'DISABLED_AFTER_FAILURES') AS "disabledNow"
    ), endpoint AS (
      UPDATE webhook_endpoints SET enabled = false, "updatedAt" = now()
      WHERE id IN (SELECT "webhookEndpointId" FROM updated WHERE "disabledNow")
    ), audit AS (
      INSERT INTO plugin_audit ("installationId", "teamId", action, detail)
      SELECT id, "teamId", 'DISABLE_AFTER_FAILURES', ${`${limit} failed deliveries in a row`}
      FROM updated WHERE "disabledNow"
    )
    SELECT id, status, "consecutiveFailures", "disabledNow" FROM updated`;
  return rows[0];
}
