// The teams benchmark's world, written in SQL (set-based, seconds for a thousand teams): the
// operator's shared taxonomy and public templates in `default`, then teams numbered from 1,
// each with 20 members (the first its OWNER; every member also in `default`, as a first key
// makes them) and its objects: 20 agents, 20 tasks, 10 topics, 10 private templates.
import { createHash, randomBytes } from 'node:crypto';
import { db } from '../../src/platform/db.js';

export const MEMBERS_PER_TEAM = 20;
export const PER_TEAM = { agents: 20, tasks: 20, topics: 10, templates: 10 } as const;
export const PUBLIC_TEMPLATES = 300;

const slug = (n: number) => `bench-${String(n).padStart(4, '0')}`;

/** The operator's: a taxonomy with one node (every agent's scope) and the public templates. */
export async function addShared(): Promise<{ taxonomyId: string; nodeId: string }> {
  const [taxonomy] = await db().$queryRaw<Array<{ id: string }>>`
    INSERT INTO taxonomies ("teamId", version, name)
    SELECT id, 'bench-1.0', 'Bench taxonomy' FROM teams WHERE slug = 'default' RETURNING id::text`;
  const [node] = await db().$queryRaw<Array<{ id: string }>>`
    INSERT INTO taxonomy_nodes ("taxonomyId", key, label, path, "ancestorIds", depth, position)
    VALUES (${taxonomy!.id}::uuid, 'root', 'Root', '{Root}', '{}', 0, 0) RETURNING id::text`;
  await db()
    .$executeRaw`UPDATE taxonomy_nodes SET "ancestorIds" = ARRAY[id] WHERE id = ${node!.id}::uuid`;
  await db().$executeRaw`
    INSERT INTO templates ("teamId", name, category, content, "isPublic", "createdAt")
    SELECT (SELECT id FROM teams WHERE slug = 'default'), 'Public template ' || i, 'DOCS', 'Hello {{name}}', true,
           now() - i * interval '1 hour'
    FROM generate_series(1, ${PUBLIC_TEMPLATES}) i`;
  return { taxonomyId: taxonomy!.id, nodeId: node!.id };
}

/** Teams `first`..`last` with their members (in `default` too). */
async function addTeamsAndMembers(first: number, last: number): Promise<void> {
  await db().$executeRaw`
    INSERT INTO teams (slug, name) SELECT 'bench-' || lpad(t::text, 4, '0'), 'Bench team ' || t
    FROM generate_series(${first}::int, ${last}::int) t`;
  await db().$executeRaw`
    INSERT INTO users (name) SELECT 'bench-' || lpad(t::text, 4, '0') || '-m' || m
    FROM generate_series(${first}::int, ${last}::int) t, generate_series(1, ${MEMBERS_PER_TEAM}::int) m`;
  await db().$executeRaw`
    WITH member AS (
      SELECT t.id AS team, u.id AS "user", m
      FROM teams t CROSS JOIN generate_series(1, ${MEMBERS_PER_TEAM}::int) m
      JOIN users u ON u.name = t.slug || '-m' || m
      WHERE t.slug BETWEEN ${slug(first)} AND ${slug(last)}
    ), joined AS (
      INSERT INTO team_members ("teamId", "userId", role)
      SELECT team, "user", CASE WHEN m = 1 THEN 'OWNER'::"TeamRole" ELSE 'MEMBER'::"TeamRole" END FROM member
    )
    INSERT INTO team_members ("teamId", "userId", role)
    SELECT (SELECT id FROM teams WHERE slug = 'default'), "user", 'MEMBER' FROM member`;
}

/** Each team's agents, tasks, topics and private templates, made by its OWNER over hours. */
async function addObjects(
  first: number,
  last: number,
  shared: { taxonomyId: string; nodeId: string },
) {
  const teams = `SELECT t.id AS team, u.id AS owner FROM teams t JOIN users u ON u.name = t.slug || '-m1'
                 WHERE t.slug BETWEEN '${slug(first)}' AND '${slug(last)}'`;
  await db().$executeRawUnsafe(
    `INSERT INTO agents ("teamId", "ownerId", name, "taxonomyId", "taxonomyVersion", "createdAt", "updatedAt")
     SELECT team, owner, 'Agent ' || i, $1::uuid, 'bench-1.0', now() - i * interval '1 minute', now()
     FROM (${teams}) t, generate_series(1, ${PER_TEAM.agents}) i`,
    shared.taxonomyId,
  );
  await db().$executeRawUnsafe(
    `INSERT INTO agent_nodes ("agentId", "nodeId", position)
     SELECT a.id, $1::uuid, 0 FROM agents a JOIN (${teams}) t ON a."teamId" = t.team`,
    shared.nodeId,
  );
  await db().$executeRawUnsafe(
    `INSERT INTO tasks (type, status, "teamId", "ownerId", "createdAt", "completedAt", "lastSequence")
     SELECT 'coverage_refresh', 'COMPLETED', team, owner, now() - i * interval '1 minute', now(), 1
     FROM (${teams}) t, generate_series(1, ${PER_TEAM.tasks}) i`,
  );
  await db().$executeRawUnsafe(
    `INSERT INTO topics ("teamId", "ownerId", topic, "createdAt")
     SELECT team, owner, 'Topic ' || i, now() - i * interval '1 minute'
     FROM (${teams}) t, generate_series(1, ${PER_TEAM.topics}) i`,
  );
  await db().$executeRawUnsafe(
    `INSERT INTO templates ("teamId", "ownerId", name, category, content, "createdAt")
     SELECT team, owner, 'Private template ' || i, 'DOCS', 'Hi {{name}}', now() - i * interval '1 minute'
     FROM (${teams}) t, generate_series(1, ${PER_TEAM.templates}) i`,
  );
}

/** Teams `first`..`last`, each with its members and objects; statistics brought up to date. */
export async function addTeams(
  first: number,
  last: number,
  shared: { taxonomyId: string; nodeId: string },
): Promise<void> {
  await addTeamsAndMembers(first, last);
  await addObjects(first, last, shared);
  await db().$executeRawUnsafe('ANALYZE');
}

/** A key of `user` in team `n` (its hash stored, as createApiKey does); returns the key. */
export async function keyOf(user: string, n: number, scopes: string): Promise<string> {
  const key = `agk_${randomBytes(32).toString('base64url')}`;
  const hash = createHash('sha256').update(key).digest('hex');
  await db().$executeRawUnsafe(
    `INSERT INTO api_keys ("userId", "teamId", name, "keyHash", prefix, scopes)
     SELECT u.id, t.id, 'bench', $1, $2, $3::"Scope"[] FROM users u, teams t WHERE u.name = $4 AND t.slug = $5`,
    hash,
    key.slice(0, 10),
    `{${scopes}}`,
    user,
    slug(n),
  );
  return key;
}

/** A new member of team `n` (as a MEMBER, with a WRITE key of it), for a removal. */
export async function addMember(user: string, n: number): Promise<string> {
  await db().$executeRawUnsafe(
    `WITH u AS (INSERT INTO users (name) VALUES ($1) RETURNING id)
     INSERT INTO team_members ("teamId", "userId", role) SELECT t.id, u.id, 'MEMBER' FROM teams t, u WHERE t.slug = $2`,
    user,
    slug(n),
  );
  return keyOf(user, n, 'WRITE');
}

export const memberName = (n: number, m: number) => `${slug(n)}-m${m}`;
