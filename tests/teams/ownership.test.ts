// What teams change for the things they own: teammates see and change each other's agents,
// templates and topics (and follow a report being written); a taxonomy version is unique per
// team and looked up own team first, then default; an agent's scope is shown with the agent;
// and the main lists read as a team member cost the same number of statements however many
// rows and teams there are (no N+1 from team checks).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CreateAgentMutation } from '../client/operations.js';
import { createCorpus } from '../utils/corpus.js';
import { db } from '../../src/platform/db.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { createTeam, join, mint } from '../utils/teams.js';

const h = useHarness();

/** Two members of one team, each with a WRITE key of it. */
async function teammates(slug: string) {
  const aHome = await mint(h, `${slug}-a`, ['ADMIN']);
  const teamId = await createTeam(h, aHome.key, slug);
  const bHome = await mint(h, `${slug}-b`, ['WRITE']);
  await join(h, aHome.key, teamId, bHome.key, 'MEMBER');
  return {
    teamId,
    a: (await mint(h, `${slug}-a`, ['WRITE'], teamId, aHome.key)).key,
    b: (await mint(h, `${slug}-b`, ['WRITE'], teamId, bHome.key)).key,
    outsider: (await mint(h, `${slug}-outsider`, ['WRITE'])).key,
  };
}

const agentIn = async (version: string, nodeId: string, key: string, name = 'team agent') =>
  h.gql(
    CreateAgentMutation,
    { input: { name, taxonomyVersion: version, taxonomyNodeIds: [nodeId] } },
    key,
  );

describe('a team’s things', () => {
  it('are seen and changed by every writer of the team, and by no one else', async () => {
    const t = await teammates('own-team');
    const corpus = await createCorpus(h, 'own-tax', t.a);
    const agentId = (await agentIn(corpus.version, corpus.nodeIds.ml!, t.a)).data!
      .createAgentFromTaxonomy.id;
    const update =
      'mutation($id: ID!, $n: String!) { updateAgent(id: $id, input: { name: $n }) { name } }';
    expect((await h.gql(update, { id: agentId, n: 'renamed by b' }, t.b)).data.updateAgent).toEqual(
      {
        name: 'renamed by b',
      },
    );
    expect(errorCodes(await h.gql(update, { id: agentId, n: 'x' }, t.outsider))).toEqual([
      'NOT_FOUND',
    ]);
    const template = (
      await h.gql(
        'mutation { createTemplate(input: { name: "team tpl", category: DOCS, content: "x" }) { id } }',
        {},
        t.a,
      )
    ).data.createTemplate.id;
    const edit =
      'mutation($id: ID!) { updateTemplate(id: $id, input: { description: "by b" }) { version } }';
    expect((await h.gql(edit, { id: template }, t.b)).data.updateTemplate).toEqual({ version: 2 });
    expect(errorCodes(await h.gql(edit, { id: template }, t.outsider))).toEqual(['NOT_FOUND']);
  });

  it('let a teammate follow a report being written: the topic, its task and its events', async () => {
    const t = await teammates('own-report');
    const planned = await h.gql(
      'mutation { planTopic(input: { topic: "Team report" }) { plan topic { id } } }',
      {},
      t.a,
    );
    const topicId = planned.data.planTopic.topic.id;
    await h.gql(
      'mutation($id: ID!, $plan: String!) { generateTopicReport(input: { topicId: $id, plan: $plan }) { id } }',
      { id: topicId, plan: planned.data.planTopic.plan },
      t.a,
    );
    const seen = await h.gql(
      'query($id: ID!) { topic(id: $id) { status task { id status events(first: 1) { edges { node { message } } } } } }',
      { id: topicId },
      t.b,
    );
    expect(seen.data.topic).toMatchObject({ status: 'GENERATING', task: { status: 'PENDING' } });
    expect(seen.data.topic.task.events.edges).toHaveLength(1);
    expect(
      (await h.gql('query($id: ID!) { topic(id: $id) { id } }', { id: topicId }, t.outsider)).data
        .topic,
    ).toBeNull();
  });
});

describe('queueStats', () => {
  it('counts the tasks of the caller’s teams, not another team’s (the operator: every team’s)', async () => {
    const t = await teammates('own-queue');
    const stats = async (key?: string) =>
      (await h.gql('{ queueStats { pending running dead byPriority workersAlive } }', {}, key)).data
        .queueStats;
    const [member, outsider, operator] = await Promise.all([
      stats(t.b),
      stats(t.outsider),
      stats(),
    ]);
    // Finished and far-future tasks: no worker of the harness takes them meanwhile.
    const far = new Date(Date.now() + 86_400_000);
    const teamId = parseGlobalId('Team', t.teamId)!;
    await db().task.createMany({
      data: [
        ...Array.from({ length: 3 }, () => ({
          type: 'own-queue',
          status: 'DEAD' as const,
          teamId,
        })),
        { type: 'own-queue', teamId, runAt: far, priority: 'LOW' as const },
        // Held by a worker that never ends it (no worker of the harness runs this type).
        { type: 'own-queue', teamId, status: 'RUNNING' as const, lockedBy: 'w', lockedUntil: far },
      ],
    });
    const after = {
      member: await stats(t.b),
      outsider: await stats(t.outsider),
      operator: await stats(),
    };
    expect(after.member.dead - member.dead).toBe(3);
    expect(after.member.pending - member.pending).toBe(1);
    expect(after.member.byPriority.LOW - member.byPriority.LOW).toBe(1);
    expect(after.member.running - member.running).toBe(1);
    expect(after.outsider).toEqual(outsider);
    expect(after.operator.dead - operator.dead).toBe(3);
    expect(after.member.workersAlive).toBe(after.operator.workersAlive);
    await db().task.deleteMany({ where: { type: 'own-queue' } });
  });
});

describe('taxonomy versions', () => {
  it('are unique per team: CONFLICT in the own team, fine in another; looked up own team first, then default', async () => {
    const t = await teammates('own-tax-team');
    await createCorpus(h, 'shared-1.0'); // the operator's: in default
    const create = `mutation($v: String!, $name: String!) { createTaxonomy(input: { version: $v, name: $name, nodes: [{ key: "a", label: "A" }] }) { id version } }`;
    const mine = await h.gql(create, { v: 'shared-1.0', name: 'Team copy' }, t.a);
    expect(mine.errors).toBeUndefined();
    expect(errorCodes(await h.gql(create, { v: 'shared-1.0', name: 'again' }, t.b))).toEqual([
      'CONFLICT',
    ]);
    const lookup = 'query { taxonomy(version: "shared-1.0") { id name } }';
    expect((await h.gql(lookup, {}, t.b)).data.taxonomy).toEqual({
      id: mine.data.createTaxonomy.id,
      name: 'Team copy',
    });
    // The outsider's own team has none: the default team's, which every user joins.
    expect((await h.gql(lookup, {}, t.outsider)).data.taxonomy.name).toBe('Test taxonomy');
    expect((await h.gql(lookup)).data.taxonomy.name).toBe('Test taxonomy'); // the operator's own: default
  });

  it('must be seen to create an agent over them; an agent shows its scope whatever the taxonomy’s team', async () => {
    const t = await teammates('own-scope');
    const corpus = await createCorpus(h, 'scope-tax', t.a);
    expect(errorCodes(await agentIn(corpus.version, corpus.nodeIds.ml!, t.outsider))).toEqual([
      'BAD_USER_INPUT',
    ]);
    // A second team of a's, whose agent uses the first team's taxonomy; the outsider joins the
    // second team only.
    const homeOfA = await mint(h, 'own-scope-a', ['ADMIN']);
    const second = await createTeam(h, homeOfA.key, 'own-scope-second');
    const inSecond = (await mint(h, 'own-scope-a', ['ADMIN'], second, homeOfA.key)).key;
    const agent = (await agentIn(corpus.version, corpus.nodeIds.ml!, inSecond)).data!
      .createAgentFromTaxonomy;
    const outsiderHome = await mint(h, 'own-scope-outsider', ['WRITE']);
    await join(h, inSecond, second, outsiderHome.key, 'VIEWER');
    const shown = await h.gql(
      'query($id: ID!, $n: ID!) { agent(id: $id) { taxonomyNodes { id label } } taxonomy(version: "scope-tax") { id } node(id: $n) { id } }',
      { id: agent.id, n: corpus.nodeIds.ml },
      outsiderHome.key,
    );
    expect(shown.data).toEqual({
      agent: { taxonomyNodes: [{ id: corpus.nodeIds.ml, label: 'Machine Learning' }] },
      taxonomy: null,
      node: null,
    });
  });
});

describe('statements per list, as a team member', () => {
  it('stay the same however many rows, and however many other teams, there are', async () => {
    const t = await teammates('own-count');
    const corpus = await createCorpus(h, 'count-tax', t.a);
    const LISTS = `{ agents(first: 50) { totalCount edges { node { name taxonomyNodes { label } } } }
      tasks(first: 50) { totalCount edges { node { id agent { name } } } }
      topics(first: 50) { totalCount edges { node { id agent { name } template { name } } } }
      templates(first: 50) { totalCount edges { node { name parent { name } } } }
      viewer { teams { slug viewerRole members { user role } } } }`;
    const count = async () => {
      // The key looked up first by a request of its own (a key cache miss costs the lookup
      // and its lastUsedAt write, not awaited), and whatever earlier requests left running
      // done: under load such a statement landed in the counted request's log or not.
      await h.gql('{ viewer { user } }', {}, t.b);
      for (let seen = -1; seen !== h.queryLog.length;) {
        seen = h.queryLog.length;
        await sleep(200);
      }
      h.queryLog.length = 0;
      const response = await h.gql(LISTS, {}, t.b);
      expect(response.errors).toBeUndefined();
      return h.queryLog.filter((sql) => !/^(BEGIN|COMMIT)/i.test(sql)).length;
    };
    const grow = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const agent = (await agentIn(corpus.version, corpus.nodeIds.ml!, t.a, `count ${i}`)).data!
          .createAgentFromTaxonomy.id;
        await h.gql(
          'mutation($id: ID!) { refreshCoverage(input: { agentId: $id }) { task { id } } }',
          { id: agent },
          t.a,
        );
        await h.gql(
          'mutation { createTemplate(input: { name: "count", category: DOCS, content: "x" }) { id } }',
          {},
          t.b,
        );
        await h.gql(
          'mutation($a: ID!) { planTopic(input: { topic: "count", agentId: $a }) { plan } }',
          { a: agent },
          t.b,
        );
      }
      await createTeam(h, t.outsider, `own-count-${n}-${Math.random().toString(36).slice(2, 6)}`);
    };
    await grow(1);
    const few = await count();
    await grow(6);
    expect(await count()).toBe(few);
  });
});
