// One team never sees another's data. Alice's team "acme" owns one of everything
// (visibility-fixture.ts); every root field of the schema is probed about it (visibility-
// probes.ts, which must name every root field: a new one fails this test until it has a probe)
// (a) as a member of another team, (b) with the key of a member removed from acme, and (c) as a
// VIEWER of acme trying every mutation that would change acme's things. Another team's object
// is null or NOT_FOUND, never FORBIDDEN (no existence oracle); a VIEWER gets FORBIDDEN and no
// data; a removed member's key is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { collect, sseClient } from '../utils/sse.js';
import { db } from '../../src/platform/db.js';
import { buildWorld, secretIds, type World } from './visibility-fixture.js';
import { PROBES, type Probe } from './visibility-probes.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

/** Node types; each is owned by a team, or reached only through one that is. */
const NODE_TYPES = [
  'Agent',
  'Artifact',
  'CoverageHistoryEntry',
  'PluginInstallation',
  'Task',
  'Taxonomy',
  'TaxonomyNode',
  'Team',
  'TeamInvitation',
  'Template',
  'Topic',
  'WebhookEndpoint',
  'Workflow',
];

let world: World;
let app: TestApp;

beforeAll(async () => {
  app = await h.startApp();
  world = await buildWorld(h);
});

interface Outcome {
  status?: number;
  data?: unknown;
  errors?: Array<{ extensions?: { code?: string } }>;
}

async function subscribe(probe: Probe, key: string): Promise<Outcome> {
  const client = sseClient({ url: `${app.baseUrl}/graphql/stream`, key });
  try {
    const results = await collect(client, probe.query, probe.variables(world)).catch(
      (error: unknown) => [{ errors: [{ message: String(error) }] }],
    );
    return {
      data: results.map((r) => (r as { data?: unknown }).data ?? null),
      errors: results.flatMap(
        (r) => ((r as Outcome).errors ?? []) as NonNullable<Outcome['errors']>,
      ),
    };
  } finally {
    client.dispose();
  }
}

const run = (probe: Probe, key: string): Promise<Outcome> =>
  probe.kind === 'subscription'
    ? subscribe(probe, key)
    : h.gql(probe.query, probe.variables(world), key);

/** Nothing of acme's: none of its ids (but those the caller sent), none of its text. */
function expectNoLeak(response: Outcome, path: string, probe?: Probe) {
  const echoed = new Set(probe?.echoes?.(world) ?? []);
  const data = JSON.stringify(response.data ?? null);
  for (const id of secretIds(world)) if (!echoed.has(id)) expect(data, path).not.toContain(id);
  expect(JSON.stringify(response), path).not.toContain('alice-secret');
}

const codes = (response: Outcome) => (response.errors ?? []).map((e) => e.extensions?.code);

/**
 * FORBIDDEN would say the thing exists; only setTemplateFlags is refused for who asks (the
 * operator's alone). Other refusals say "no such thing" (or, for a version or slug the caller
 * named, what an unknown one gets).
 */
function expectNoForbidden(response: Outcome, path: string) {
  const forbidden = codes(response).filter((code) => code === 'FORBIDDEN');
  // The operator's alone, whoever asks: setting template flags, rewrapping the key vault.
  const operatorsOnly = ['Mutation.setTemplateFlags', 'Mutation.rewrapProviderKeys'];
  expect(forbidden, path).toEqual(operatorsOnly.includes(path) ? ['FORBIDDEN'] : []);
  for (const code of codes(response))
    expect(['NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'FORBIDDEN'], path).toContain(code);
}

/** Root fields that reach nothing of another team's, and why. */
const NOTHING_OWNED: Record<string, string> = {
  'Query.node': 'probed type by type below',
  'Query.workers':
    "the operator's alone (FORBIDDEN to every key, tests/workers/workers-list.test.ts); its running tasks are every team's",
  'Query.validatePluginManifest': 'checks the manifest sent; reads and stores nothing',
  'Mutation.validatePluginManifest': 'checks the manifest sent; reads and stores nothing',
  'Mutation.registerTrustedDocuments':
    "the operator's alone (FORBIDDEN to every key, tests/http/trusted-documents); documents belong to no team",
};

describe('visibility', () => {
  it('has a probe for every root field', () => {
    const roots = ['Query', 'Mutation', 'Subscription'].flatMap((name) =>
      Object.keys((schema.getType(name) as import('graphql').GraphQLObjectType).getFields()).map(
        (field) => `${name}.${field}`,
      ),
    );
    expect(roots.filter((path) => !(path in PROBES) && !(path in NOTHING_OWNED))).toEqual([]);
    const nodes = schema.getPossibleTypes(schema.getType('Node') as never).map((t) => t.name);
    expect(nodes.sort(), 'classify each Node type').toEqual(NODE_TYPES);
  });

  it("lets acme's members see every probe target (else the probes prove nothing)", async () => {
    const ids = [
      world.agentId,
      world.taskId,
      world.topicId,
      world.templateId,
      world.artifactId,
      world.teamId,
      world.taxonomyId,
      world.nodeId,
      world.historyId,
      world.workflowId,
      world.webhookEndpointId,
      world.pluginId,
    ];
    for (const key of [
      world.keys.alice,
      world.keys.veraAcme,
      world.keys.ritaAcme,
      world.keys.veraHome,
    ])
      for (const id of ids)
        expect(
          (await h.gql('query($id: ID!) { node(id: $id) { id } }', { id }, key)).data.node,
        ).toEqual({ id });
    const invitation = { id: world.invitationId };
    const node = 'query($id: ID!) { node(id: $id) { id } }';
    expect((await h.gql(node, invitation, world.keys.alice)).data.node).toEqual(invitation);
    expect((await h.gql(node, invitation, world.keys.veraAcme)).data.node).toBeNull();
  });
});

describe("acme's own view", () => {
  for (const [path, probe] of Object.entries(PROBES).filter(([, p]) => p.kind === 'query')) {
    it(`answers ${path} to acme's owner without errors (the probe is sound)`, async () => {
      const response = await run(probe, world.keys.alice);
      expect(response.errors, path).toBeUndefined();
    });
  }
});

describe('(a) a member of another team', () => {
  it('gets null from node(id) for every Node type', async () => {
    for (const id of secretIds(world).filter(
      (id) => id !== world.documentId && id !== world.apiKeyId,
    )) {
      const response = await h.gql(
        'query($id: ID!) { node(id: $id) { id } }',
        { id },
        world.keys.bob,
      );
      expect(response.errors).toBeUndefined();
      expect(response.data.node, id).toBeNull();
    }
  });

  for (const [path, probe] of Object.entries(PROBES)) {
    it(`gets nothing through ${path}, and never FORBIDDEN`, async () => {
      const response = await run(probe, world.keys.bob);
      expectNoLeak(response, path, probe);
      expectNoForbidden(response, path);
    });
  }

  it('gets 404 for the report downloads', async () => {
    const url = `${app.baseUrl}/artifacts/${encodeURIComponent(world.artifactId)}/markdown`;
    const theirs = await fetch(url, { headers: { authorization: `Bearer ${world.keys.bob}` } });
    expect(theirs.status).toBe(404);
    expect(await theirs.text()).not.toContain('alice');
    const mine = await fetch(url, { headers: { authorization: `Bearer ${world.keys.veraAcme}` } });
    expect(mine.status).toBe(200);
  });
});

/** The probe's mutation refused with `code` and no data (the bulk ones report it per id). */
async function expectRefused(path: string, probe: Probe, key: string, code: string) {
  const response = (await run(probe, key)) as Outcome & { data?: Record<string, any> | null };
  const field = path.split('.')[1]!;
  const results = response.data?.[field]?.results as Array<{ error: string }> | undefined;
  if (results) {
    expect(response.data![field].applied, path).toBe(false);
    expect(
      results.map((r) => r.error),
      path,
    ).toEqual([code]);
    return;
  }
  expect(codes(response), path).toEqual([code]);
  expect(response.data?.[field] ?? null, path).toBeNull();
}

describe('(c) a VIEWER of the owning team', () => {
  // Her READ key of acme: every mutation that writes (into acme or to acme's things) is
  // FORBIDDEN by its scope. Joining and leaving need no write.
  const READ_KEY_MAY = ['Mutation.acceptTeamInvitation', 'Mutation.leaveTeam'];
  const mutations = Object.entries(PROBES).filter(
    ([path, probe]) => probe.kind === 'mutation' && !READ_KEY_MAY.includes(path),
  );
  for (const [path, probe] of mutations) {
    it(`is refused ${path} with her READ key of acme, with no data`, () =>
      expectRefused(path, probe, world.keys.veraAcme, probe.changes ?? 'FORBIDDEN'));
  }
  // Her WRITE key of her own team: what would change acme's things is FORBIDDEN by her role.
  for (const [path, probe] of Object.entries(PROBES).filter(([, p]) => p.changes)) {
    it(`is refused ${path} with her WRITE key of her own team, with no data`, () =>
      expectRefused(path, probe, world.keys.veraHome, probe.changes!));
  }
});

describe('(b) a member removed from the owning team', () => {
  let ritasTopic: string;
  let ritasTask: string;

  beforeAll(async () => {
    // While a member: Rita's own team plans a topic on acme's agent and refreshes its coverage.
    const planned = await h.gql(
      'mutation($a: ID!) { planTopic(input: { topic: "rita topic", agentId: $a }) { topic { id agent { id } } } }',
      { a: world.agentId },
      world.keys.ritaHome,
    );
    expect(planned.data.planTopic.topic.agent).toEqual({ id: world.agentId });
    ritasTopic = planned.data.planTopic.topic.id;
    // Her plan quotes acme's documents, read while she could: that copy is her team's now.
    await db().topic.update({ where: { id: rowId(ritasTopic) }, data: { plan: '## Rita' } });
    const refreshed = await h.gql(
      'mutation($a: ID!) { refreshCoverage(input: { agentId: $a }) { task { id agent { id } } } }',
      { a: world.agentId },
      world.keys.ritaHome,
    );
    expect(refreshed.data.refreshCoverage.task.agent).toEqual({ id: world.agentId });
    ritasTask = refreshed.data.refreshCoverage.task.id;
    expect((await h.gql('{ viewer { user } }', {}, world.keys.ritaAcme)).status).toBe(200);
    const removed = await h.gql(
      'mutation($t: ID!) { removeTeamMember(teamId: $t, user: "rita-vis") }',
      { t: world.teamId },
      world.keys.alice,
    );
    expect(removed.data).toEqual({ removeTeamMember: true });
  });

  for (const [path, probe] of Object.entries(PROBES).filter(([, p]) => p.kind !== 'subscription')) {
    it(`has her key of the team refused on ${path}`, async () => {
      const response = await run(probe, world.keys.ritaAcme);
      expect(response.status, path).toBe(401);
      expect(codes(response), path).toEqual(['UNAUTHENTICATED']);
      expectNoLeak(response, path);
    });
  }

  it('has her key of the team refused by subscriptions and downloads', async () => {
    const response = await subscribe(PROBES['Subscription.taskProgress']!, world.keys.ritaAcme);
    expectNoLeak(response, 'Subscription.taskProgress');
    expect(response.errors?.length).toBeGreaterThan(0);
    const url = `${app.baseUrl}/artifacts/${encodeURIComponent(world.artifactId)}/markdown`;
    const file = await fetch(url, { headers: { authorization: `Bearer ${world.keys.ritaAcme}` } });
    expect(file.status).toBe(404);
  });

  for (const [path, probe] of Object.entries(PROBES)) {
    it(`gives her key of her own team nothing of acme's through ${path}`, async () => {
      const response = await run(probe, world.keys.ritaHome);
      expectNoLeak(response, path, probe);
      expectNoForbidden(response, path);
    });
  }

  it("shows her own team's topic and task without acme's agent behind them", async () => {
    const response = await h.gql(
      'query($t: ID!, $k: ID!) { topic(id: $t) { id agent { id } } task(id: $k) { id agent { id } } }',
      { t: ritasTopic, k: ritasTask },
      world.keys.ritaHome,
    );
    expect(response.data).toEqual({
      topic: { id: ritasTopic, agent: null },
      task: { id: ritasTask, agent: null },
    });
  });
});

describe('the operator', () => {
  it('sees every team: the task, the topic behind it, the team and its invitations', async () => {
    const response = await h.gql(
      `query($task: ID!, $team: ID!) { node(id: $task) { ... on Task { id topic { id } } }
        team(id: $team) { id viewerRole invitations { id } } }`,
      { task: world.taskId, team: world.teamId },
    );
    expect(response.data.node.id).toBe(world.taskId);
    expect(response.data.team).toEqual({
      id: world.teamId,
      viewerRole: null,
      invitations: [{ id: world.invitationId }],
    });
  });
});
