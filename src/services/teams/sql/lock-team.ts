// Takes the team's row lock for a membership change, inside its transaction: changes of one
// team's members (roles, removals, leaving, transfers) run one after another, so the count of
// OWNERs each reads is still true when it commits (no two demotions of the last two owners).
// The members are read by the next statement (select-team-owners.ts), after the lock: under
// READ COMMITTED a statement that waited for the lock still reads with the snapshot it started
// with.
import type { Queryable } from '../../../platform/db.js';

/** false when there is no such team. */
export async function lockTeam(client: Queryable, teamId: string): Promise<boolean> {
  const locked = await client.$queryRaw<unknown[]>`
    SELECT 1 FROM teams WHERE id = ${teamId}::uuid FOR UPDATE`;
  return locked.length > 0;
}
