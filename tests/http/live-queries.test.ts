// Live queries (`@live`, docs/clients.md "Live queries") through graphql-sse (both modes) and
// graphql-ws on their defaults: the first result, then the whole result again after each change
// the query read (an agent renamed, coverage recorded, a task ended, a template rated, a member
// removed), for the caller's teams only; refusals on every transport; a revoked key's end.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import {
  follow,
  liveClient,
  liveExecutions,
  TRANSPORTS,
  type LiveResult,
} from '../utils/live-queries.js';
import { waitFor } from '../utils/wait.js';
import { createAgent, RENAME } from '../utils/response-cache.js';
import { join, mint, teamWithMember } from '../utils/teams.js';
import { templateHelpers } from '../utils/templates.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

const AGENTS = `agents(first: 20) { edges { node { id name coveragePercent } } }`;
const LIVE_AGENTS = `query LiveAgents @live { ${AGENTS} }`;

type Agents = { agents: { edges: Array<{ node: { id: string; name: string } }> } };
const names = (result: LiveResult<Agents>) => result.data?.agents.edges.map((e) => e.node.name);
const ids = (result: LiveResult<Agents>) => result.data?.agents.edges.map((e) => e.node.id);

describe('live queries: what they answer', () => {
  it('answers now and again after each change it read, over graphql-sse (both modes) and graphql-ws', async () => {
    const app = await h.startApp();
    const id = await createAgent(h, h.adminKey, 'Before');
    const followers = TRANSPORTS.map((transport) =>
      follow<Agents>(liveClient(h, app, transport, h.adminKey), LIVE_AGENTS),
    );
    for (const followed of followers)
      await followed.latest((r) => names(r)?.includes('Before'), 'the first result');
    expect(await db().agent.findUniqueOrThrow({ where: { id: rowId(id) } })).toMatchObject({
      name: 'Before',
      coveragePercent: null,
    });

    expect((await h.gql(RENAME, { id, name: 'After' })).errors).toBeUndefined();
    for (const followed of followers)
      await followed.latest((r) => names(r)?.includes('After'), 'the renamed agent');

    // Coverage computed now: recorded for the agent (its coveragePercent), so read again.
    const refresh = await h.gql(
      'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: false }) { coverage { overallCoverage } } }',
      { id },
    );
    expect(refresh.errors).toBeUndefined();
    const row = await db().agent.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(row.coveragePercent).not.toBeNull();
    const now = await h.gql(`{ ${AGENTS} }`);
    for (const followed of followers) {
      const result = await followed.latest(
        (r) => JSON.stringify(r.data) === JSON.stringify(now.data),
        'the recorded coverage',
      );
      // The whole result, as a plain query answers it now, and nothing beside `data`.
      expect(result).toEqual({ data: now.data });
      expect(
        (result.data!.agents.edges.find((e) => e.node.id === id)!.node as any).coveragePercent,
      ).toBe(row.coveragePercent);
      expect(names(followed.results[0]!)).toContain('Before');
      followed.stop();
    }
  });

  it("follows a task to its end, a template's rating and a team's members", async () => {
    const app = await h.startApp();
    const agentId = await createAgent(h, h.adminKey, 'Tasked');
    const queued = await h.gql(
      'mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: true }) { task { id status } } }',
      { id: agentId },
    );
    const task = queued.data.refreshCoverage.task;
    expect(task.status).toBe('PENDING');
    const taskFollowed = follow(
      liveClient(h, app, 'sse', h.adminKey),
      'query($id: ID!) @live { task(id: $id) { id status } }',
      { id: task.id },
    );
    await taskFollowed.latest((r) => r.data?.task.status === 'PENDING', 'the task waiting');
    await h.startWorker(app.pubsub);
    const ended = await taskFollowed.latest(
      (r) => r.data?.task.status === 'COMPLETED',
      'the end of the task',
    );
    expect(ended).toEqual({ data: { task: { id: task.id, status: 'COMPLETED' } } });
    expect((await db().task.findUniqueOrThrow({ where: { id: rowId(task.id) } })).status).toBe(
      'COMPLETED',
    );

    const templates = templateHelpers(h);
    const template = await templates.createTemplate({ isPublic: true });
    const rated = follow(
      liveClient(h, app, 'ws', h.adminKey),
      'query($id: ID!) @live { template(id: $id) { id ratingCount ratingAverage } }',
      { id: template.id },
    );
    await rated.latest((r) => r.data?.template.ratingCount === 0, 'the template unrated');
    const rater = await templates.mintKey('live-rater');
    const rating = await h.gql(
      'mutation($id: ID!) { rateTemplate(id: $id, stars: 4) { id } }',
      { id: template.id },
      rater,
    );
    expect(rating.errors).toBeUndefined();
    expect(await rated.latest((r) => r.data?.template.ratingCount === 1, 'the rating')).toEqual({
      data: { template: { id: template.id, ratingCount: 1, ratingAverage: 4 } },
    });

    const team = await teamWithMember(h, 'live-members');
    const members = follow(
      liveClient(h, app, 'sse-single', team.owner),
      'query($id: ID!) @live { team(id: $id) { members { user role } } }',
      { id: team.teamId },
    );
    const usersOf = (r: LiveResult) => r.data?.team.members.map((m: { user: string }) => m.user);
    await members.latest((r) => usersOf(r)?.includes(team.user), 'the member listed');
    const removed = await h.gql(
      'mutation($teamId: ID!, $user: String!) { removeTeamMember(teamId: $teamId, user: $user) }',
      { teamId: team.teamId, user: team.user },
      team.owner,
    );
    expect(removed.data).toEqual({ removeTeamMember: true });
    const after = await members.latest((r) => !usersOf(r)?.includes(team.user), 'the removal');
    expect(after.data.team.members).toEqual([{ user: 'live-members-owner', role: 'OWNER' }]);
    for (const followed of [taskFollowed, rated, members]) followed.stop();
  });

  it("shows each caller their teams' rows only, and stops showing a team's rows once they leave it", async () => {
    const app = await h.startApp();
    const red = await teamWithMember(h, 'live-red');
    const blue = await teamWithMember(h, 'live-blue');
    const redAgent = await createAgent(h, red.member, 'Red agent');
    const blueAgent = await createAgent(h, blue.member, 'Blue agent');
    const redFollows = follow<Agents>(liveClient(h, app, 'ws', red.member), LIVE_AGENTS);
    const blueFollows = follow<Agents>(liveClient(h, app, 'sse', blue.member), LIVE_AGENTS);
    await redFollows.latest((r) => ids(r)?.includes(redAgent), "red's agent");
    await blueFollows.latest((r) => ids(r)?.includes(blueAgent), "blue's agent");

    // A change of red's agent runs both queries again (both read Query.agents), each as its
    // caller; blue's answers as before, so blue is sent nothing (nor learns that red changed).
    const blueBefore = blueFollows.results.length;
    const executed = await liveExecutions(app.app.metricsRegistry);
    expect((await h.gql(RENAME, { id: redAgent, name: 'Red renamed' }, red.member)).errors).toBe(
      undefined,
    );
    await redFollows.latest((r) => names(r)?.includes('Red renamed'), 'the rename, for red');
    await waitFor(
      async () => (await liveExecutions(app.app.metricsRegistry)) >= executed + 2,
      'both run again',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(blueFollows.results).toHaveLength(blueBefore);
    expect(redFollows.results.every((r) => !ids(r)!.includes(blueAgent))).toBe(true);
    expect(blueFollows.results.every((r) => !ids(r)!.includes(redAgent))).toBe(true);
    // What each sees is what a plain query of theirs answers now (the default team's agents too).
    for (const [followed, key] of [
      [redFollows, red.member],
      [blueFollows, blue.member],
    ] as const)
      expect(followed.results.at(-1)).toEqual({
        data: (await h.gql(`{ ${AGENTS} }`, {}, key)).data,
      });

    // Red's member joins blue: their live query shows both teams' agents, then, removed from
    // blue, red's only (their rights changed: the query runs again as they now are).
    await join(h, blue.owner, blue.teamId, red.memberHome, 'MEMBER');
    const both = follow<Agents>(liveClient(h, app, 'sse-single', red.member), LIVE_AGENTS);
    await both.latest(
      (r) => ids(r)?.includes(redAgent) && ids(r)?.includes(blueAgent),
      "both teams' agents",
    );
    const removed = await h.gql(
      'mutation($teamId: ID!, $user: String!) { removeTeamMember(teamId: $teamId, user: $user) }',
      { teamId: blue.teamId, user: red.user },
      blue.owner,
    );
    expect(removed.errors).toBeUndefined();
    const after = await both.latest((r) => !ids(r)?.includes(blueAgent), "blue's agent gone");
    expect(ids(after)).toContain(redAgent);
    expect(after).toEqual({ data: (await h.gql(`{ ${AGENTS} }`, {}, red.member)).data });
    for (const followed of [redFollows, blueFollows, both]) followed.stop();
  });

  it('never sends a removed member a run with their old rights, though the removal changed what it read', async () => {
    const app = await h.startApp();
    const blue = await teamWithMember(h, 'live-gone');
    const blueAgent = await createAgent(h, blue.owner, 'Blue secret');
    // The query reads the team too: the removal both narrows the member's rights and changes
    // what it read, so it is run again by the change as well as by the member's new rights.
    const followed = follow<Agents & { team: unknown }>(
      // A key of the member's personal team: it outlives the removal, their rights narrow.
      liveClient(h, app, 'sse', blue.memberHome),
      `query($id: ID!) @live { ${AGENTS} team(id: $id) { members { user } } }`,
      { id: blue.teamId },
    );
    await followed.latest((r) => ids(r)?.includes(blueAgent), "blue's agent");
    // Past the store's throttle: the change runs the query again at once.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const before = followed.results.length;
    // Through the app that holds the stream (h.gql's is the file's first app, another process
    // as far as signals go: there only the sweep would tell it, within the key cache's TTL).
    const removed = await graphql(
      app.fetch,
      'mutation($teamId: ID!, $user: String!) { removeTeamMember(teamId: $teamId, user: $user) }',
      { teamId: blue.teamId, user: blue.user },
      { key: blue.owner },
    );
    expect(removed.errors).toBeUndefined();
    const after = await followed.latest((r) => r.data?.team === null, 'the team gone');
    expect(ids(after)).not.toContain(blueAgent);
    // Nothing read with the old rights after the removal: no result with blue's agent or team.
    for (const result of followed.results.slice(before)) {
      expect(ids(result)).not.toContain(blueAgent);
      expect(result.data?.team ?? null).toBeNull();
    }
    followed.stop();
  });
});

/** An operation added to a reserved graphql-sse stream (PROTOCOL.md), refused: its answer. */
async function singleConnectionRefusal(baseUrl: string, query: string) {
  const headers = { authorization: `Bearer ${h.adminKey}` };
  const url = `${baseUrl}/graphql/stream`;
  const token = await (await fetch(url, { method: 'PUT', headers })).text();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/json',
      'x-graphql-event-stream-token': token,
    },
    body: JSON.stringify({ query, extensions: { operationId: '1' } }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('live queries: refusals and ends', () => {
  it('answers a JSON-only client once, with the first result', async () => {
    const app = await h.startApp();
    await createAgent(h, h.adminKey, 'Once');
    const response = await fetch(`${app.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        authorization: `Bearer ${h.adminKey}`,
      },
      body: JSON.stringify({ query: LIVE_AGENTS }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual({ data: (await h.gql(`{ ${AGENTS} }`)).data });
    expect(names(body)).toContain('Once');
  });

  it('refuses @live on a mutation, a subscription, with @defer, a field that writes or a throttle out of range, on every transport', async () => {
    const app = await h.startApp();
    const agentId = await createAgent(h, h.adminKey, 'Refusals');
    const documents = [
      `mutation @live { updateAgent(id: "${agentId}", input: { name: "x" }) { id } }`,
      `subscription @live { agentUpdated(id: "${agentId}") { id } }`,
      `query @live { agent(id: "${agentId}") { coverage { overallCoverage } } }`,
      `query @live { ... @defer { agents(first: 1) { totalCount } } }`,
      `query @live(throttle: 60001) { agents(first: 1) { totalCount } }`,
      `query @live(throttle: -1) { agents(first: 1) { totalCount } }`,
    ];
    const expected = [
      /^@live applies to queries: a mutation cannot be live$/,
      /^@live applies to queries: a subscription cannot be live/,
      /^A live query cannot select Agent.coverage/,
      /^Cannot mix "@defer" with "@live"\.$/,
      /^@live throttle must be from 0 to 60000 ms, got 60001$/,
      /^@live throttle must be from 0 to 60000 ms, got -1$/,
    ];
    for (const [index, query] of documents.entries()) {
      const overJson = await h.gql(query);
      expect(overJson.status).toBe(400);
      expect(overJson.errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(expected[index]!),
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
      for (const transport of ['sse', 'ws'] as const) {
        const followed = follow(liveClient(h, app, transport, h.adminKey), query);
        const refusal = await followed.ended.then(
          () => followed.results.flatMap((result) => result.errors ?? []),
          (error: unknown) => error, // graphql-ws: the `error` message's errors
        );
        expect(refusal, `${transport}: ${query}`).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(expected[index]!),
            extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
          }),
        ]);
      }
      // graphql-sse's single connection mode answers an operation's refusal to its POST.
      const refused = await singleConnectionRefusal(app.baseUrl, query);
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const multipart = await fetch(`${app.baseUrl}/graphql`, {
        method: 'POST',
        headers: {
          accept: 'multipart/mixed;subscriptionSpec=1.0, application/json',
          'content-type': 'application/json',
          authorization: `Bearer ${h.adminKey}`,
        },
        body: JSON.stringify({ query }),
      });
      // A mutation is no stream: answered as JSON (application/json: 200, as GraphQL over HTTP says).
      expect(multipart.status).toBe(query.startsWith('mutation') ? 200 : 400);
      expect((await multipart.json()).errors).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
    }
    const inVariable = await h.gql(
      'query($t: Int) @live(throttle: $t) { agents(first: 1) { totalCount } }',
      { t: 100_000 },
    );
    expect([inVariable.status, inVariable.errors?.[0]?.message]).toEqual([
      400,
      '@live throttle must be from 0 to 60000 ms, got 100000',
    ]);
    // Nothing ran: the agent keeps its name and no coverage was recorded.
    expect(await db().agent.findUniqueOrThrow({ where: { id: rowId(agentId) } })).toMatchObject({
      name: 'Refusals',
      coveragePercent: null,
    });
  });

  it('refuses what a live query may not ask only when @live(if:) says it is live', async () => {
    const app = await h.startApp();
    const agentId = await createAgent(h, h.adminKey, 'Maybe live');
    const documents = [
      'query($live: Boolean!) @live(if: $live) { agents(first: 1) { totalCount } ... @defer { agentCount: agents(first: 1) { totalCount } } }',
      `query($live: Boolean!) @live(if: $live) { agent(id: "${agentId}") { coverage { overallCoverage } } }`,
    ];
    for (const query of documents) {
      const off = await h.gql(query, { live: false });
      expect([off.status, off.errors], query).toEqual([200, undefined]);
      const on = await h.gql(query, { live: true });
      expect(on.status, query).toBe(400);
      expect(on.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
      // graphql-ws: the operation's `error` message.
      const followed = follow(liveClient(h, app, 'ws', h.adminKey), query, { live: true });
      const refusal = await followed.ended.then(
        () => followed.results.flatMap((result) => result.errors ?? []),
        (error: unknown) => error,
      );
      expect(refusal, query).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
    }
    const literal = await h.gql(
      'query @live(if: false) { ... @defer { agents(first: 1) { totalCount } } }',
    );
    expect([literal.status, literal.errors]).toEqual([200, undefined]);
  });

  it('ends the live queries of a revoked key with UNAUTHENTICATED, as its subscriptions', async () => {
    const app = await h.startApp();
    const key = await mint(h, 'live-revoked', ['READ']);
    await createAgent(h, h.adminKey, 'Revoked view');
    const followers = TRANSPORTS.map((transport) =>
      follow<Agents>(liveClient(h, app, transport, key.key), LIVE_AGENTS),
    );
    for (const followed of followers)
      await followed.latest((r) => r.data !== undefined, 'the first result');
    const revoked = await h.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
      id: key.id,
    });
    expect(revoked.errors).toBeUndefined();
    for (const followed of followers) {
      await followed.ended.catch(() => {});
      const codes = followed.results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code);
      expect(codes).toEqual(['UNAUTHENTICATED']);
    }
  });
});
