// Users exist by name: created the first time the operator mints a key for them (or the
// environment's admin key is used).
import { db, type Queryable } from '../../platform/db.js';

/** One statement (ON CONFLICT): concurrent first mintings for a name make one user. */
export async function ensureUser(
  name: string,
  client: Queryable = db(),
): Promise<{ id: string; name: string }> {
  const rows = await client.$queryRaw<Array<{ id: string; name: string }>>`
    INSERT INTO users (name) VALUES (${name})
    ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
    RETURNING id::text AS id, name`;
  return rows[0]!;
}

export function findUserByName(name: string) {
  return db().user.findUnique({ where: { name }, select: { id: true, name: true } });
}
