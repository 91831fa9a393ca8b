// The `default` team (made by the teams migration): the operator's creations go there, and
// every user joins it as a MEMBER with their first key unless AUTO_JOIN_DEFAULT_TEAM=false.
import { db } from '../../platform/db.js';

export const DEFAULT_TEAM_SLUG = 'default';

export async function defaultTeamId(): Promise<string> {
  const team = await db().team.findUniqueOrThrow({
    where: { slug: DEFAULT_TEAM_SLUG },
    select: { id: true },
  });
  return team.id;
}
