// The two worlds the lists are compared in: one team alone, and the same team among 1,000,
// each in its own database (built once per run, vacuumed and analysed so that no autovacuum
// runs while they are measured). Measured in alternating rounds, one database connected at a
// time, so a change in the machine's load during the run falls on both alike.
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { openFreshBenchDatabase } from '../database.js';
import { addShared, addTeams, keyOf, memberName } from './fixture.js';

export interface World {
  label: string;
  url: string;
  /** A WRITE key of a MEMBER of team 1. */
  key: string;
  counts: string;
  stop(): Promise<void>;
}

async function counts(): Promise<string> {
  const [row] = await db().$queryRaw<Array<Record<string, number>>>`
    SELECT (SELECT count(*) FROM teams)::int AS teams, (SELECT count(*) FROM team_members)::int AS members,
           (SELECT count(*) FROM agents)::int AS agents, (SELECT count(*) FROM tasks)::int AS tasks,
           (SELECT count(*) FROM topics)::int AS topics, (SELECT count(*) FROM templates)::int AS templates`;
  return Object.entries(row!)
    .map(([name, count]) => `${count.toLocaleString('en-US')} ${name}`)
    .join(', ');
}

/** A database with teams 1..`teams` (and the shared things); left disconnected. */
export async function buildWorld(label: string, database: string, teams: number): Promise<World> {
  const opened = await openFreshBenchDatabase(database);
  connectDatabase(opened.url, { poolSize: 10 });
  try {
    const shared = await addShared();
    await addTeams(1, teams, shared);
    await db().$executeRawUnsafe('VACUUM ANALYZE');
    const key = await keyOf(memberName(1, 2), 1, 'WRITE');
    return { label, url: opened.url, key, counts: await counts(), stop: opened.stop };
  } finally {
    await disconnectDatabase();
  }
}

/** Runs `measure` connected to the world's database. */
export async function inWorld<T>(world: World, measure: () => Promise<T>): Promise<T> {
  connectDatabase(world.url, { poolSize: 10 });
  try {
    return await measure();
  } finally {
    await disconnectDatabase();
  }
}
