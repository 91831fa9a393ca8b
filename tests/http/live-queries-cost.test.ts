// What live queries cost (docs/clients.md "Live queries"): equal live queries of one key share
// each execution, so 1,000 clients cost what one does per change (counted in executions and in
// SQL statements); a change that no live query read runs nothing.
import { describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';
import { follow, liveClient, liveExecutions, settle } from '../utils/live-queries.js';
import { createAgent, RENAME } from '../utils/response-cache.js';
import { teamWithMember } from '../utils/teams.js';
import { templateHelpers } from '../utils/templates.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();

const AGENTS = `agents(first: 20) { totalCount edges { node { id name taxonomyNodes { label } } } }`;
const LIVE_AGENTS = `query SharedAgents @live { ${AGENTS} }`;

/** The statements of the queries themselves: the open streams' key checks run beside them. */
const ownStatements = (log: readonly string[]) => log.filter((sql) => !/"api_keys"/.test(sql));

describe('live queries: what they cost', () => {
  it('runs 1,000 equal live queries of one key once per change', async () => {
    const app = await h.startApp();
    const team = await teamWithMember(h, 'live-shared');
    const agentId = await createAgent(h, team.member, 'Shared before');
    // One execution of the query, as a plain query: its statements.
    let mark = h.queryLog.length;
    const plain = await h.gql(`{ ${AGENTS} }`, {}, team.member);
    const perExecution = ownStatements(h.queryLog.slice(mark));
    expect(perExecution.length).toBeGreaterThan(0);
    const before = await liveExecutions(app.app.metricsRegistry);

    // 1,000 live queries over 10 graphql-ws connections, all the member's key.
    const followers = Array.from({ length: 10 }, () =>
      liveClient(h, app, 'ws', team.member),
    ).flatMap((client) => Array.from({ length: 100 }, () => follow(client, LIVE_AGENTS)));
    await waitFor(
      async () => followers.every((followed) => followed.results.length === 1),
      'every first result',
    );
    for (const followed of followers) expect(followed.results[0]).toEqual({ data: plain.data });
    expect(await liveExecutions(app.app.metricsRegistry)).toBe(before + 1);

    mark = h.queryLog.length;
    expect((await h.gql(RENAME, { id: agentId, name: 'Shared after' }, team.member)).errors).toBe(
      undefined,
    );
    const renamed = (result: any) =>
      result.data.agents.edges.some((edge: any) => edge.node.name === 'Shared after');
    await waitFor(
      async () => followers.every((followed) => followed.results.length === 2),
      'every result after the rename',
    );
    for (const followed of followers) expect(renamed(followed.results[1])).toBe(true);
    // The re-execution may start before the mutation's answer is back (an in-process pub/sub
    // delivers the change at once): of the statements since the mutation, the query's own.
    const rerun = ownStatements(h.queryLog.slice(mark)).filter((sql) => perExecution.includes(sql));
    const executions = (await liveExecutions(app.app.metricsRegistry)) - before;
    console.info(
      `1,000 live queries: ${executions} executions for the first results and one change; ` +
        `${rerun.length} statements for the change (one plain query: ${perExecution.length})`,
    );
    expect(executions).toBe(2);
    expect(rerun).toEqual(perExecution);
    for (const followed of followers) followed.stop();
  });

  it('runs nothing for a change no live query read, and at once for one it read (throttle 0)', async () => {
    const app = await h.startApp({ liveQueryThrottleMs: 0 });
    const agentId = await createAgent(h, h.adminKey, 'Watched');
    const template = await templateHelpers(h).createTemplate({ isPublic: true });
    const rater = await templateHelpers(h).mintKey('live-cost-rater');
    const followed = follow(liveClient(h, app, 'sse', h.adminKey), LIVE_AGENTS);
    await followed.latest((r) => r.data !== undefined, 'the first result');
    // What this app's live queries are told, on its own pub/sub (the app is told first).
    const signals = app.pubsub.subscribe('liveQueryInvalidated', 'all');
    await signals.ready;
    const before = await liveExecutions(app.app.metricsRegistry);

    const rating = await h.gql(
      'mutation($id: ID!) { rateTemplate(id: $id, stars: 5) { id } }',
      { id: template.id },
      rater,
    );
    expect(rating.errors).toBeUndefined();
    const mark = h.queryLog.length;
    const unread = (await signals.next()).value!;
    expect(unread.identifiers).toContain(`Template:${template.id}`);
    await settle();
    expect(await liveExecutions(app.app.metricsRegistry)).toBe(before);
    expect(ownStatements(h.queryLog.slice(mark))).toEqual([]);
    expect(followed.results).toHaveLength(1);

    // The control: a change it read runs it within the same turn.
    expect((await h.gql(RENAME, { id: agentId, name: 'Watched again' })).errors).toBeUndefined();
    const read = (await signals.next()).value!;
    expect(read.identifiers).toContain(`Agent:${agentId}`);
    await settle();
    expect(await liveExecutions(app.app.metricsRegistry)).toBe(before + 1);
    await followed.latest(
      (r) => r.data.agents.edges.some((e: any) => e.node.name === 'Watched again'),
      'the rename',
    );
    await signals.return?.();
    followed.stop();
  });
});
