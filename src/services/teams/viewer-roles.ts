// Team.viewerRole: the calling user's role in each team of a response, read in one statement
// per response (batched like Template.ratings: a few lines by hand, no dataloader dependency).
// Read from the memberships, not the caller's cached roles: a response to the mutation that
// made or joined the team already shows the role.
import type { TeamRole } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';

interface Batch {
  teamIds: Set<string>;
  roles: Promise<Map<string, TeamRole>>;
}

// Per request (the GraphQL context); a batch closes when it is sent.
const pending = new WeakMap<object, Batch>();

export function viewerRole(
  scope: object,
  userId: string,
  teamId: string,
): Promise<TeamRole | null> {
  let batch = pending.get(scope);
  if (!batch) {
    const teamIds = new Set<string>();
    const roles = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      pending.delete(scope);
      const rows = await db().teamMember.findMany({
        where: { userId, teamId: { in: [...teamIds] } },
        select: { teamId: true, role: true },
      });
      return new Map(rows.map((row) => [row.teamId, row.role]));
    });
    pending.set(scope, (batch = { teamIds, roles }));
  }
  batch.teamIds.add(teamId);
  return batch.roles.then((roles) => roles.get(teamId) ?? null);
}
