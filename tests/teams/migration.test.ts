// The teams migration on a database holding pre-teams data: migrated up to the migration
// before it, filled as the previous release would have, then upgraded. Every user gets a
// personal team holding what they own; the deployment-wide agents and taxonomies go to
// `default`, which every user joins; rows nobody owned go to the operator's user's personal
// team; and no key reads anything other than it did before.
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp, type App } from '../../src/http/app.js';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { applyPendingMigrations, migrationsDir } from '../../src/platform/migrations/index.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { createTopicSettings, closeTopicSettings } from '../../src/services/topics/settings.js';
import { createLlmGateway } from '../../src/llm/gateway.js';
import { databaseUrl, runSql } from '../utils/database.js';
import { graphql } from '../utils/graphql.js';

const name = `agent_growth_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
const admin = inject('adminDatabaseUrl');
const url = databaseUrl(admin, name);
const keys = {
  alice: `agk_alice_${randomBytes(8).toString('hex')}`,
  bob: `agk_bob_${randomBytes(8).toString('hex')}`,
};
const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** What the previous release held: two users with keys, shared agents, owned tasks, topics and templates. */
const PRE_TEAMS_DATA = `
  INSERT INTO users (id, name) VALUES
    ('00000000-0000-4000-8000-00000000000a', 'alice'),
    ('00000000-0000-4000-8000-00000000000b', 'Bob Ünicode'),
    ('00000000-0000-4000-8000-00000000000c', 'admin');
  INSERT INTO api_keys ("userId", name, "keyHash", prefix, scopes) VALUES
    ('00000000-0000-4000-8000-00000000000a', 'a', '${hash(keys.alice)}', 'agk_alice', '{WRITE}'),
    ('00000000-0000-4000-8000-00000000000b', 'b', '${hash(keys.bob)}', 'agk_bob', '{READ}');
  INSERT INTO taxonomies (id, version, name) VALUES ('00000000-0000-4000-8000-0000000000f1', '1.0', 'Shared');
  INSERT INTO taxonomy_nodes (id, "taxonomyId", key, label, path, "ancestorIds", depth, position)
    VALUES ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000f1', 'root', 'Root', '{Root}',
            '{00000000-0000-4000-8000-0000000000e1}', 0, 0);
  INSERT INTO agents (id, "ownerId", name, "taxonomyId", "taxonomyVersion") VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000000a', 'alices agent', '00000000-0000-4000-8000-0000000000f1', '1.0'),
    ('00000000-0000-4000-8000-0000000000a2', NULL, 'ownerless agent', '00000000-0000-4000-8000-0000000000f1', '1.0');
  INSERT INTO agent_nodes ("agentId", "nodeId", position) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000e1', 0);
  INSERT INTO tasks (id, type, "ownerId", "agentId") VALUES
    ('00000000-0000-4000-8000-0000000000b1', 'coverage_refresh', '00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-0000000000a1'),
    ('00000000-0000-4000-8000-0000000000b2', 'coverage_refresh', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-0000000000a1'),
    ('00000000-0000-4000-8000-0000000000b3', 'coverage_refresh', NULL, NULL);
  INSERT INTO topics (id, "ownerId", topic) VALUES
    ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-00000000000a', 'alices topic'),
    ('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-00000000000b', 'bobs topic');
  INSERT INTO templates (id, "ownerId", name, category, content, "isPublic") VALUES
    ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-00000000000a', 'alices private', 'DOCS', 'x', false),
    ('00000000-0000-4000-8000-0000000000d2', '00000000-0000-4000-8000-00000000000a', 'alices public', 'DOCS', 'x', true),
    ('00000000-0000-4000-8000-0000000000d3', '00000000-0000-4000-8000-00000000000b', 'bobs private', 'DOCS', 'x', false),
    ('00000000-0000-4000-8000-0000000000d4', NULL, 'ownerless public', 'DOCS', 'x', true);
`;

let app: App;
let close: () => Promise<void>;

beforeAll(async () => {
  await runSql(admin, `CREATE DATABASE "${name}"`);
  const migrations = (await readdir(migrationsDir))
    .filter((entry) => !entry.endsWith('.toml'))
    .sort();
  const teams = migrations.findIndex((entry) => entry.endsWith('_teams'));
  await applyPendingMigrations(url, { upTo: migrations[teams - 1] });
  await runSql(url, PRE_TEAMS_DATA);
  expect(await applyPendingMigrations(url)).toEqual(migrations.slice(teams));
  connectDatabase(url, { poolSize: 4 });
  const pubsub = createInProcessPubSub(`test:${randomBytes(4).toString('hex')}:`);
  const llm = await createLlmGateway({ pubsub });
  const topicSettings = await createTopicSettings();
  app = createApp({
    adminApiKey: undefined,
    pubsub,
    llm,
    topicSettings,
    webhooks: {
      secret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdA==',
      allowPrivateTargets: true,
      timeoutMs: 1_000,
      maxAttempts: 4,
      retryDelaysMs: [100, 200, 400],
      retentionDays: 30,
    },
    taskFinished: async () => {},
  });
  close = async () => {
    app.close();
    await pubsub.close();
    await llm.close();
    await closeTopicSettings(topicSettings);
  };
});

afterAll(async () => {
  await close?.();
  await disconnectDatabase();
  await runSql(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

const teamOf = (personalUserId: string) =>
  db()
    .team.findUniqueOrThrow({ where: { personalUserId } })
    .then((team) => team.id);

describe('the teams migration on pre-teams data', () => {
  it('makes the default team and a personal team per user, with their memberships', async () => {
    const teams = await db().team.findMany({ orderBy: { slug: 'asc' } });
    expect(teams.map((t) => [t.slug.replace(/[0-9a-f]{6}$/, 'HEX'), t.personal])).toEqual([
      ['default', false],
      ['u-admin-HEX', true],
      ['u-alice-HEX', true],
      ['u-bob-nicode-HEX', true],
    ]);
    for (const team of teams) expect(team.slug).toMatch(/^[a-z0-9-]{3,40}$/);
    const members = await db().teamMember.findMany({ include: { team: true, user: true } });
    for (const user of ['alice', 'Bob Ünicode', 'admin']) {
      const of = members.filter((m) => m.user.name === user);
      expect(of.map((m) => [m.team.personal, m.role]).sort()).toEqual([
        [false, 'MEMBER'],
        [true, 'OWNER'],
      ]);
    }
  });

  it('puts what each user owns in their personal team, shared things in default, and ownerless rows with the operator', async () => {
    const defaultId = (await db().team.findUniqueOrThrow({ where: { slug: 'default' } })).id;
    const alice = await teamOf('00000000-0000-4000-8000-00000000000a');
    const bob = await teamOf('00000000-0000-4000-8000-00000000000b');
    const operator = await teamOf('00000000-0000-4000-8000-00000000000c');
    const teamIds = async (rows: Promise<Array<{ id: string; teamId: string }>>) =>
      Object.fromEntries((await rows).map((row) => [row.id.slice(-2), row.teamId]));
    expect(await teamIds(db().agent.findMany())).toEqual({ a1: defaultId, a2: defaultId });
    expect(await teamIds(db().taxonomy.findMany())).toEqual({ f1: defaultId });
    expect(await teamIds(db().task.findMany())).toEqual({ b1: alice, b2: bob, b3: operator });
    expect(await teamIds(db().topic.findMany())).toEqual({ c1: alice, c2: bob });
    expect(await teamIds(db().template.findMany())).toEqual({
      d1: alice,
      d2: alice,
      d3: bob,
      d4: operator,
    });
    const keyTeams = await db().apiKey.findMany({ select: { teamId: true, prefix: true } });
    expect(Object.fromEntries(keyTeams.map((k) => [k.prefix, k.teamId]))).toEqual({
      agk_alice: alice,
      agk_bob: bob,
    });
  });

  it('changes no key’s view: own tasks, topics and private templates, every shared agent, the public templates', async () => {
    const VIEW = `{ viewer { scopes } agents { edges { node { name } } } tasks { edges { node { id } } }
      topics { edges { node { topic } } } templates { edges { node { name } } }
      taxonomy(version: "1.0") { name } }`;
    const view = async (key: string) => {
      const response = await graphql(app.fetch, VIEW, {}, { key });
      expect(response.errors).toBeUndefined();
      const names = (connection: { edges: Array<{ node: Record<string, string> }> }) =>
        connection.edges.map((edge) => Object.values(edge.node)[0]).sort();
      const d = response.data;
      return {
        scopes: [...d.viewer.scopes].sort(),
        agents: names(d.agents),
        tasks: d.tasks.edges.length,
        topics: names(d.topics),
        templates: names(d.templates),
        taxonomy: d.taxonomy?.name,
      };
    };
    expect(await view(keys.alice)).toEqual({
      scopes: ['READ', 'WRITE'],
      agents: ['alices agent', 'ownerless agent'],
      tasks: 1,
      topics: ['alices topic'],
      templates: ['alices private', 'alices public', 'ownerless public'],
      taxonomy: 'Shared',
    });
    expect(await view(keys.bob)).toEqual({
      scopes: ['READ'],
      agents: ['alices agent', 'ownerless agent'],
      tasks: 1,
      topics: ['bobs topic'],
      templates: ['alices public', 'bobs private', 'ownerless public'],
      taxonomy: 'Shared',
    });
  });
});
