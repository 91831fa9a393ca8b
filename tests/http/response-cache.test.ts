// The query response cache (RESPONSE_CACHE) in one API process on Redis: hit and miss said
// by X-Cache and extensions, a change answered anew, one caller's view never served to
// another, a removed member's or demoted member's old view never served, ratings, and the
// cache off. Across processes: response-cache-processes.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { db } from '../../src/platform/db.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { AGENT_NAME, RENAME, createAgent, read } from '../utils/response-cache.js';
import { createTeam, join, mint } from '../utils/teams.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const AGENTS = `{ agents(first: 50) { totalCount edges { node { id name } } } }`;

describe('response cache settings', () => {
  it('is off by default, needs Redis when on, and reads TTLs per type', () => {
    expect(loadConfig({}).responseCache).toEqual({
      enabled: false,
      ttlMs: 60_000,
      ttlPerCoordinate: {},
    });
    expect(() => loadConfig({ RESPONSE_CACHE: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ RESPONSE_CACHE: 'true' })).toThrow(/RESPONSE_CACHE: needs REDIS_URL/);
    const on = loadConfig({
      RESPONSE_CACHE: '1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      RESPONSE_CACHE_TTL_MS: '30000',
      RESPONSE_CACHE_TTL_PER_TYPE: 'Template=120000, Agent.name=0',
    }).responseCache;
    expect(on).toEqual({
      enabled: true,
      ttlMs: 30_000,
      ttlPerCoordinate: { Template: 120_000, 'Agent.name': 0 },
    });
    expect(() => loadConfig({ RESPONSE_CACHE_TTL_PER_TYPE: 'Template:5' })).toThrow(
      /RESPONSE_CACHE_TTL_PER_TYPE/,
    );
  });
});

describe.skipIf(!redisAvailable)('response cache on Redis', () => {
  let cached: TestApp;
  let plain: TestApp;
  beforeAll(async () => {
    cached = await h.startApp({ pubsub: 'redis', responseCache: {} });
    plain = await h.startApp({ pubsub: 'redis' });
  });

  it('answers a repeated query from the cache, and anew after a mutation', async () => {
    const id = await createAgent(h, h.adminKey, 'alpha');
    const first = await read(cached.fetch, h.adminKey, AGENT_NAME, { id });
    expect(first.data.agent.name).toBe('alpha');
    expect(first.xCache).toBe('MISS');
    expect(first.extension).toEqual({ hit: false, didCache: true, ttl: 60_000 });
    const second = await read(cached.fetch, h.adminKey, AGENT_NAME, { id });
    expect(second).toMatchObject({ xCache: 'HIT', extension: { hit: true } });
    expect(second.data).toEqual(first.data);

    const renamed = await h.gql(RENAME, { id, name: 'beta' });
    expect(renamed.errors).toBeUndefined();
    const after = await read(cached.fetch, h.adminKey, AGENT_NAME, { id });
    expect(after).toMatchObject({ xCache: 'MISS', data: { agent: { name: 'beta' } } });
    expect((await read(cached.fetch, h.adminKey, AGENT_NAME, { id })).xCache).toBe('HIT');

    // A change that bypasses the services is not seen while cached (the answer is the
    // cache's), and at once with the cache off.
    await db().agent.update({ where: { id: rowId(id) }, data: { name: 'gamma' } });
    const stale = await read(cached.fetch, h.adminKey, AGENT_NAME, { id });
    expect(stale).toMatchObject({ xCache: 'HIT', data: { agent: { name: 'beta' } } });
    const off = await read(plain.fetch, h.adminKey, AGENT_NAME, { id });
    expect(off).toMatchObject({ xCache: null, extension: undefined });
    expect(off.data.agent.name).toBe('gamma');
  });

  it('drops a list when an agent is created or deleted, and counts hits and misses', async () => {
    const before = await read(cached.fetch, h.adminKey, AGENTS);
    expect((await read(cached.fetch, h.adminKey, AGENTS)).xCache).toBe('HIT');
    const id = await createAgent(h, h.adminKey, 'listed');
    const grown = await read(cached.fetch, h.adminKey, AGENTS);
    expect(grown.xCache).toBe('MISS');
    expect(grown.data.agents.totalCount).toBe(before.data.agents.totalCount + 1);
    const deleted = await h.gql(`mutation($id: ID!) { deleteAgent(id: $id) }`, { id });
    expect(deleted.errors).toBeUndefined();
    const shrunk = await read(cached.fetch, h.adminKey, AGENTS);
    expect(shrunk.data.agents.totalCount).toBe(before.data.agents.totalCount);
    expect((await read(cached.fetch, h.adminKey, AGENT_NAME, { id })).data.agent).toBeNull();

    const metrics = await (await cached.fetch(new Request('http://test.local/metrics'))).text();
    expect(Number(/^response_cache_hits_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^response_cache_misses_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('never caches what must stay live, nor an event stream, nor a refused request', async () => {
    const viewer = await read(cached.fetch, h.adminKey, '{ viewer { user } }');
    expect(viewer).toMatchObject({ xCache: null, extension: undefined });
    const tasks = await read(cached.fetch, h.adminKey, '{ tasks(first: 1) { edges { cursor } } }');
    expect(tasks.xCache).toBeNull();
    const id = await createAgent(h, h.adminKey, 'streamed');
    expect((await read(cached.fetch, h.adminKey, AGENT_NAME, { id })).xCache).toBe('MISS');
    await db().agent.update({ where: { id: rowId(id) }, data: { name: 'streamed-2' } });
    // A query asked for as an event stream runs through the live transport, uncached.
    const stream = await fetch(
      new Request(`${cached.baseUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${h.adminKey}`,
        },
        body: JSON.stringify({ query: AGENT_NAME, variables: { id } }),
      }),
    );
    expect(stream.headers.get('x-cache')).toBeNull();
    expect(await stream.text()).toContain('streamed-2');
    // Workflows (their steps are tasks), LLM calls, usage, budgets and routing move without a
    // mutation of the reader's: never kept.
    for (const live of [
      '{ workflows(first: 1) { edges { cursor } } }',
      '{ llmCalls(first: 1) { edges { cursor } } }',
      '{ llmUsage(from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z", groupBy: [SERVICE]) { calls } }',
      '{ budgets { id } }',
      '{ providerKeys { id } }',
    ]) {
      const answer = await read(cached.fetch, h.adminKey, live);
      expect(answer.errors, live).toBeUndefined();
      expect(answer.xCache, live).toBeNull();
    }
    const refused = await read(cached.fetch, 'not-a-key-0123456789', AGENT_NAME, { id });
    expect(refused.status).toBe(401);
    expect(refused.data ?? null).toBeNull();
  });

  it('never serves one team’s cached view to a caller of another', async () => {
    const alice = await mint(h, 'cache-alice', ['WRITE']);
    const bob = await mint(h, 'cache-bob', ['WRITE']);
    const agentId = await createAgent(h, alice.key, 'alice-only');
    const names = (r: { data: any }) => r.data.agents.edges.map((e: any) => e.node.name);
    expect(names(await read(cached.fetch, alice.key, AGENTS))).toContain('alice-only');
    expect((await read(cached.fetch, alice.key, AGENTS)).xCache).toBe('HIT');
    expect((await read(cached.fetch, alice.key, AGENT_NAME, { id: agentId })).data.agent).toEqual({
      id: agentId,
      name: 'alice-only',
    });
    expect((await read(cached.fetch, alice.key, AGENT_NAME, { id: agentId })).xCache).toBe('HIT');

    const bobsList = await read(cached.fetch, bob.key, AGENTS);
    expect(bobsList.xCache).toBe('MISS');
    expect(names(bobsList)).not.toContain('alice-only');
    const bobsLookup = await read(cached.fetch, bob.key, AGENT_NAME, { id: agentId });
    expect(bobsLookup).toMatchObject({ xCache: 'MISS', data: { agent: null } });
    const again = await read(cached.fetch, bob.key, AGENT_NAME, { id: agentId });
    expect(again).toMatchObject({ xCache: 'HIT', data: { agent: null } });
    // Another key of the same user has its own entries too.
    const alice2 = await mint(h, 'cache-alice', ['READ']);
    expect((await read(cached.fetch, alice2.key, AGENTS)).xCache).toBe('MISS');
  });

  it('answers node(id) anew once what it could not see is made visible (a template published)', async () => {
    const alice = await mint(h, 'cache-publisher', ['WRITE']);
    const carol = await mint(h, 'cache-outsider', ['READ']);
    const created = await h.gql(
      'mutation { createTemplate(input: { name: "soon public", category: DOCS, content: "x" }) { id } }',
      {},
      alice.key,
    );
    const id = created.data.createTemplate.id;
    const node = 'query($id: ID!) { node(id: $id) { id ... on Template { name } } }';
    expect(await read(cached.fetch, carol.key, node, { id })).toMatchObject({
      xCache: 'MISS',
      data: { node: null },
    });
    expect((await read(cached.fetch, carol.key, node, { id })).xCache).toBe('HIT');
    const publish =
      'mutation($id: ID!) { updateTemplate(id: $id, input: { isPublic: true }) { id } }';
    expect((await h.gql(publish, { id }, alice.key)).errors).toBeUndefined();
    expect(await read(cached.fetch, carol.key, node, { id })).toMatchObject({
      xCache: 'MISS',
      data: { node: { id, name: 'soon public' } },
    });
  });

  it('answers a team’s pending invitations anew after one is withdrawn', async () => {
    const erin = await mint(h, 'cache-erin', ['ADMIN']);
    const teamId = await createTeam(h, erin.key, 'cache-invites');
    const inTeam = await mint(h, 'cache-erin', ['ADMIN'], teamId, erin.key);
    const invite = `mutation($teamId: ID!) { inviteToTeam(teamId: $teamId, role: MEMBER) { invitation { id } token } }`;
    const invitation = (await h.gql(invite, { teamId }, inTeam.key)).data.inviteToTeam.invitation;
    const pending = `query($id: ID!) { team(id: $id) { invitations { id } } }`;
    const ids = async () => {
      const answer = await read(cached.fetch, inTeam.key, pending, { id: teamId });
      return { xCache: answer.xCache, ids: answer.data.team.invitations.map((i: any) => i.id) };
    };
    expect(await ids()).toEqual({ xCache: 'MISS', ids: [invitation.id] });
    expect((await ids()).xCache).toBe('HIT');
    const revoke = `mutation($id: ID!) { revokeTeamInvitation(id: $id) }`;
    expect((await h.gql(revoke, { id: invitation.id }, inTeam.key)).errors).toBeUndefined();
    expect(await ids()).toEqual({ xCache: 'MISS', ids: [] });
  });

  it('does not serve a removed member’s, or a demoted member’s, old view', async () => {
    const carol = await mint(h, 'cache-carol', ['ADMIN']);
    const teamId = await createTeam(h, carol.key, 'cache-team');
    const carolInTeam = await mint(h, 'cache-carol', ['ADMIN'], teamId, carol.key);
    await createAgent(h, carolInTeam.key, 'team-agent');
    const dave = await mint(h, 'cache-dave', ['WRITE']);
    await join(h, carolInTeam.key, teamId, dave.key, 'MEMBER');
    const role = `query($id: ID!) { team(id: $id) { id viewerRole members { user role } } }`;
    const names = (r: { data: any }) => r.data.agents.edges.map((e: any) => e.node.name);
    expect(names(await read(cached.fetch, dave.key, AGENTS))).toContain('team-agent');
    expect((await read(cached.fetch, dave.key, AGENTS)).xCache).toBe('HIT');
    expect((await read(cached.fetch, dave.key, role, { id: teamId })).data.team.viewerRole).toBe(
      'MEMBER',
    );
    expect((await read(cached.fetch, dave.key, role, { id: teamId })).xCache).toBe('HIT');
    const carolsView = await read(cached.fetch, carolInTeam.key, role, { id: teamId });

    const demote = `mutation($teamId: ID!) { changeTeamMemberRole(teamId: $teamId, user: "cache-dave", role: VIEWER) { role } }`;
    expect((await h.gql(demote, { teamId }, carolInTeam.key)).errors).toBeUndefined();
    const demoted = await read(cached.fetch, dave.key, role, { id: teamId });
    expect(demoted.data.team.viewerRole).toBe('VIEWER');
    // Carol's own view of the members changed as well (the team's answers were dropped).
    const carolsNow = await read(cached.fetch, carolInTeam.key, role, { id: teamId });
    expect(carolsNow.xCache).toBe('MISS');
    expect(carolsNow.data).not.toEqual(carolsView.data);

    const remove = `mutation($teamId: ID!) { removeTeamMember(teamId: $teamId, user: "cache-dave") }`;
    expect((await h.gql(remove, { teamId }, carolInTeam.key)).errors).toBeUndefined();
    const removed = await read(cached.fetch, dave.key, AGENTS);
    expect(names(removed)).not.toContain('team-agent');
    expect((await read(cached.fetch, dave.key, role, { id: teamId })).data.team).toBeNull();
  });

  it('answers a template’s rating and its place in the lists anew after every rating', async () => {
    const created = await h.gql(
      `mutation { createTemplate(input: { name: "rated", category: DOCS, content: "x", isPublic: true }) { id } }`,
    );
    const id = created.data.createTemplate.id;
    const one = `query($id: ID!) { template(id: $id) { id ratingAverage ratingCount } }`;
    const list = `{ templates(first: 50, orderBy: RATING) { edges { node { id ratingAverage } } } }`;
    const rate = `mutation($id: ID!, $stars: Int!) { rateTemplate(id: $id, stars: $stars) { id } }`;
    for (const [index, stars] of [4, 2, 5].entries()) {
      expect((await read(cached.fetch, h.adminKey, one, { id })).xCache).not.toBeNull();
      expect((await read(cached.fetch, h.adminKey, one, { id })).xCache).toBe('HIT');
      await read(cached.fetch, h.adminKey, list);
      const rater = await mint(h, `cache-rater-${index}`, ['WRITE']);
      expect((await h.gql(rate, { id, stars }, rater.key)).errors).toBeUndefined();
      const truth = await db().template.findUniqueOrThrow({ where: { id: rowId(id) } });
      const now = await read(cached.fetch, h.adminKey, one, { id });
      expect(now.xCache).toBe('MISS');
      expect(now.data.template).toMatchObject({
        ratingCount: index + 1,
        ratingAverage: truth.ratingAverage,
      });
      const listed = await read(cached.fetch, h.adminKey, list);
      const entry = listed.data.templates.edges.find((e: any) => e.node.id === id);
      expect(entry.node.ratingAverage).toBe(truth.ratingAverage);
    }
  });
});
