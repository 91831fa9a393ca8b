// Removing a member and lowering a role take effect at once in every API process (the same
// signal as a key revocation, over Redis), and within the key cache's TTL (5 s) without it.
import { describe, expect, it } from 'vitest';
import { errorCodes, graphql } from '../utils/graphql.js';
import { redisAvailable, useHarness, type TestApp } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';
import { createTeam, join, mint } from '../utils/teams.js';

const h = useHarness();

const VIEWER = '{ viewer { user scopes } }';
const WRITE =
  'mutation { createTemplate(input: { name: "x", category: DOCS, content: "y" }) { id } }';

/** A team with an OWNER and a MEMBER, each with a key of the team. */
async function teamWithMember(slug: string) {
  const home = await mint(h, `${slug}-owner`, ['ADMIN']);
  const teamId = await createTeam(h, home.key, slug);
  const memberHome = await mint(h, `${slug}-member`, ['WRITE']);
  await join(h, home.key, teamId, memberHome.key, 'MEMBER');
  const member = (await mint(h, `${slug}-member`, ['WRITE'], teamId, memberHome.key)).key;
  return { teamId, owner: home.key, member, user: `${slug}-member` };
}

const as = (app: TestApp, query: string, key: string) => graphql(app.fetch, query, {}, { key });

describe.skipIf(!redisAvailable)('across API processes on one Redis', () => {
  it('refuses a removed member’s key in the other process at once', async () => {
    const a = await h.startApp({ pubsub: 'redis' });
    const b = await h.startApp({ pubsub: 'redis' });
    await Promise.all([a, b].map((app) => app.pubsub.subscribe('apiKeyRevoked', 'all').ready));
    const { teamId, owner, member, user } = await teamWithMember('prop-remove');
    expect((await as(b, VIEWER, member)).status).toBe(200); // cached in b for 5 s from here
    const removed = await graphql(
      a.fetch,
      'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }',
      { t: teamId, u: user },
      { key: owner },
    );
    expect(removed.data).toEqual({ removeTeamMember: true });
    // b hears it well within its cache's TTL.
    const refusedAt = await waitFor(
      async () => ((await as(b, VIEWER, member)).status === 401 ? Date.now() : undefined),
      'b to refuse the key',
      3_000, // under the cache's TTL: the signal did it
    );
    expect(refusedAt).toBeDefined();
  });

  it('lowers a member’s rights in the other process at once', async () => {
    const a = await h.startApp({ pubsub: 'redis' });
    const b = await h.startApp({ pubsub: 'redis' });
    await Promise.all([a, b].map((app) => app.pubsub.subscribe('apiKeyRevoked', 'all').ready));
    const { teamId, owner, member, user } = await teamWithMember('prop-lower');
    expect((await as(b, WRITE, member)).errors).toBeUndefined();
    await graphql(
      a.fetch,
      'mutation($t: ID!, $u: String!) { changeTeamMemberRole(teamId: $t, user: $u, role: VIEWER) { role } }',
      { t: teamId, u: user },
      { key: owner },
    );
    await waitFor(
      async () => errorCodes(await as(b, WRITE, member))[0] === 'FORBIDDEN' || undefined,
      'b to refuse the write',
      3_000,
    );
    expect((await as(b, VIEWER, member)).data.viewer.scopes).toEqual(['READ']);
  });
});

describe('without Redis', () => {
  it('refuses a removed member’s key in a process that missed the signal once its cache entry expires (5 s)', async () => {
    // Two processes with nothing between them: b never hears of the removal.
    const a = await h.startApp({ pubsub: 'in-process' });
    const b = await h.startApp({ pubsub: 'in-process' });
    const { teamId, owner, member, user } = await teamWithMember('prop-ttl');
    expect((await as(b, VIEWER, member)).status).toBe(200);
    await graphql(
      a.fetch,
      'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }',
      { t: teamId, u: user },
      { key: owner },
    );
    expect((await as(a, VIEWER, member)).status).toBe(401); // the removing process at once
    await waitFor(
      async () => (await as(b, VIEWER, member)).status === 401 || undefined,
      'b to refuse the key within the TTL',
      6_000,
    );
  });
});
