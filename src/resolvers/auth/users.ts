// Users exist by name: created the first time a key is minted for them (or the environment's
// admin key is used).
import { db } from '../../platform/db.js';

export function ensureUser(name: string) {
  return db().user.upsert({
    where: { name },
    create: { name },
    update: {},
    select: { id: true, name: true },
  });
}
