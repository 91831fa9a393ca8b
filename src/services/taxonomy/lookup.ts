// Taxonomies by version: a version is unique per team, so a lookup (the taxonomy(version)
// query, createAgentFromTaxonomy, ingestDocuments) takes the one the caller sees that is the
// caller's own team's first, then the `default` team's, then the oldest.
import { db } from '../../platform/db.js';
import type { Caller } from '../auth/caller.js';
import { taxonomyVisibleTo } from '../auth/visibility.js';
import { DEFAULT_TEAM_SLUG } from '../auth/default-team.js';

type Who = Pick<Caller, 'isOperator' | 'roles' | 'teamId'>;

export interface FoundTaxonomy {
  id: string;
  teamId: string;
  version: string;
}

export async function findVisibleTaxonomy(
  version: string,
  caller: Who,
): Promise<FoundTaxonomy | undefined> {
  const found = await db().taxonomy.findMany({
    where: { AND: [{ version }, taxonomyVisibleTo(caller)] },
    select: {
      id: true,
      teamId: true,
      version: true,
      createdAt: true,
      team: { select: { slug: true } },
    },
  });
  const preference = (row: (typeof found)[number]) =>
    row.teamId === caller.teamId ? 0 : row.team.slug === DEFAULT_TEAM_SLUG ? 1 : 2;
  const best = found.sort(
    (a, b) => preference(a) - preference(b) || a.createdAt.getTime() - b.createdAt.getTime(),
  )[0];
  return best && { id: best.id, teamId: best.teamId, version: best.version };
}
