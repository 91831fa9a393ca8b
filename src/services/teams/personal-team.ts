// The teams a user gets without asking: a personal team (OWNER) made on first use, which
// createApiKey without a teamId mints into, and the `default` team (MEMBER) joined with the
// first key unless AUTO_JOIN_DEFAULT_TEAM=false.
import { randomBytes } from 'node:crypto';
import type { Prisma } from '../../generated/prisma/client.js';
import { DEFAULT_TEAM_SLUG } from '../auth/default-team.js';

type Tx = Prisma.TransactionClient;

/** u-<name as a slug, cut>-<6 hex>: valid against ^[a-z0-9-]{3,40}$. */
export function personalSlug(userName: string): string {
  const part =
    userName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 31)
      .replace(/-+$/, '') || 'user';
  return `u-${part}-${randomBytes(3).toString('hex')}`;
}

/** The user's personal team, made with the user as its OWNER when there is none yet. */
export async function ensurePersonalTeam(
  tx: Tx,
  user: { id: string; name: string },
): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await tx.team.findUnique({
      where: { personalUserId: user.id },
      select: { id: true },
    });
    if (existing) return existing.id;
    // ON CONFLICT: another request made the user's team meanwhile, or the slug is taken.
    const made = await tx.$queryRaw<Array<{ id: string }>>`
      WITH team AS (
        INSERT INTO teams (slug, name, personal, "personalUserId")
        VALUES (${personalSlug(user.name)}, ${user.name}, true, ${user.id}::uuid)
        ON CONFLICT DO NOTHING RETURNING id
      )
      INSERT INTO team_members ("teamId", "userId", role)
      SELECT id, ${user.id}::uuid, 'OWNER' FROM team RETURNING "teamId"::text AS id`;
    if (made[0]) return made[0].id;
  }
  throw new Error('could not make a personal team');
}

/** Joins the `default` team as a MEMBER (nothing when already in it). */
export async function joinDefaultTeam(tx: Tx, userId: string): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO team_members ("teamId", "userId", role)
    SELECT id, ${userId}::uuid, 'MEMBER' FROM teams WHERE slug = ${DEFAULT_TEAM_SLUG}
    ON CONFLICT DO NOTHING`;
}
