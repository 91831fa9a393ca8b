// Teams: creating one (slug and name rules), reading it (members only, the operator every
// team), the personal team a first key is minted into, and the default team every user joins.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes, graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { createTeam, join, mint, MINT } from '../utils/teams.js';

const h = useHarness();

const CREATE = `mutation($input: CreateTeamInput!) { createTeam(input: $input) {
  id slug name personal viewerRole createdAt members { user role joinedAt } invitations { id } } }`;
const TEAM = `query($id: ID!) { team(id: $id) { id slug viewerRole members { user role } } }`;
const VIEWER = `{ viewer { user scopes team { slug personal viewerRole } teams { slug personal viewerRole } } }`;

describe('createTeam', () => {
  it('makes the caller its OWNER; the team is theirs to read, no one else’s', async () => {
    const { key } = await mint(h, 'team-maker', ['WRITE']);
    const created = await h.gql(CREATE, { input: { name: '  Research  ', slug: 'research' } }, key);
    expect(created.errors, JSON.stringify(created.errors)).toBeUndefined();
    expect(created.data.createTeam).toMatchObject({
      slug: 'research',
      name: 'Research',
      personal: false,
      viewerRole: 'OWNER',
      members: [{ user: 'team-maker', role: 'OWNER', joinedAt: expect.any(String) }],
      invitations: [],
    });
    const id = created.data.createTeam.id;
    expect((await h.gql(TEAM, { id }, key)).data.team).toMatchObject({ viewerRole: 'OWNER' });
    const stranger = await mint(h, 'team-stranger', ['WRITE']);
    expect((await h.gql(TEAM, { id }, stranger.key)).data.team).toBeNull();
    expect(
      (await h.gql('query($id: ID!) { node(id: $id) { id } }', { id }, stranger.key)).data.node,
    ).toBeNull();
    // The operator reads every team, with no role in it.
    expect((await h.gql(TEAM, { id })).data.team).toMatchObject({
      slug: 'research',
      viewerRole: null,
    });
  });

  it('refuses a slug outside ^[a-z0-9-]{3,40}$ as BAD_USER_INPUT naming it, and a taken one as CONFLICT', async () => {
    const { key } = await mint(h, 'slug-tester', ['WRITE']);
    for (const slug of ['ab', 'Upper', 'with space', 'under_score', 'é-accent', 'x'.repeat(41)]) {
      const response = await h.gql(CREATE, { input: { name: 'x', slug } }, key);
      expect(errorCodes(response), slug).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions!.argument, slug).toBe('input.slug');
    }
    for (const name of ['', '   ', 'n'.repeat(101)]) {
      const response = await h.gql(CREATE, { input: { name, slug: 'fine-slug' } }, key);
      expect(errorCodes(response), JSON.stringify(name)).toEqual(['BAD_USER_INPUT']);
      // Past its length bound the input is refused before the service, named as a field's.
      expect(response.errors![0]!.extensions!.argument).toMatch(/input.*\.name$/);
    }
    await createTeam(h, key, 'taken-slug');
    const other = await mint(h, 'slug-rival', ['WRITE']);
    const taken = await h.gql(CREATE, { input: { name: 'x', slug: 'taken-slug' } }, other.key);
    expect(errorCodes(taken)).toEqual(['CONFLICT']);
    expect(errorCodes(await h.gql(CREATE, { input: { name: 'x', slug: 'default' } }, key))).toEqual(
      ['CONFLICT'],
    );
    expect(await db().team.count({ where: { slug: 'fine-slug' } })).toBe(0);
  });

  it('needs the write scope', async () => {
    const { key } = await mint(h, 'team-reader', ['READ']);
    const response = await h.gql(CREATE, { input: { name: 'x', slug: 'reader-team' } }, key);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });
});

describe('personal and default teams', () => {
  it('mints a first key into a personal team made for the user, who also joins default as a MEMBER', async () => {
    const { key } = await mint(h, 'Dana Q. Public', ['WRITE']);
    const viewer = (await h.gql(VIEWER, {}, key)).data.viewer;
    expect(viewer.team).toEqual({ slug: expect.any(String), personal: true, viewerRole: 'OWNER' });
    expect(viewer.team.slug).toMatch(/^u-dana-q-public-[0-9a-f]{6}$/);
    expect(viewer.team.slug).toMatch(/^[a-z0-9-]{3,40}$/);
    expect(viewer.teams).toEqual([
      { slug: 'default', personal: false, viewerRole: 'MEMBER' },
      { slug: viewer.team.slug, personal: true, viewerRole: 'OWNER' },
    ]);
    expect(new Set(viewer.scopes)).toEqual(new Set(['READ', 'WRITE']));
    // A second key without a team goes to the same personal team.
    const again = await mint(h, 'Dana Q. Public', ['READ']);
    expect((await h.gql(VIEWER, {}, again.key)).data.viewer.team.slug).toBe(viewer.team.slug);
    expect(await db().team.count({ where: { personalUser: { name: 'Dana Q. Public' } } })).toBe(1);
  });

  it('makes one personal team when two first keys are minted at once', async () => {
    const minted = await Promise.all(
      [0, 1, 2].map(() =>
        h.gql(MINT, { input: { user: '한국어 이름', name: 'k', scopes: ['READ'] } }),
      ),
    );
    for (const response of minted) expect(response.errors).toBeUndefined();
    const teams = await db().team.findMany({ where: { personalUser: { name: '한국어 이름' } } });
    expect(teams).toHaveLength(1);
    expect(teams[0]!.slug).toMatch(/^u-user-[0-9a-f]{6}$/);
    const keys = await db().apiKey.findMany({ where: { user: { name: '한국어 이름' } } });
    expect(new Set(keys.map((key) => key.teamId))).toEqual(new Set([teams[0]!.id]));
  });

  it('does not join default when AUTO_JOIN_DEFAULT_TEAM=false', async () => {
    const app = await h.startApp({ autoJoinDefaultTeam: false });
    const minted = await graphql(
      app.fetch,
      MINT,
      { input: { user: 'loner', name: 'k', scopes: ['WRITE'] } },
      { key: h.adminKey },
    );
    const key = minted.data.createApiKey.key;
    const viewer = await graphql(app.fetch, VIEWER, {}, { key });
    expect(viewer.data.viewer.teams.map((t: { personal: boolean }) => t.personal)).toEqual([true]);
    // So the operator's agents are not the loner's to see.
    expect(
      (await graphql(app.fetch, '{ agents { totalCount } }', {}, { key })).data.agents,
    ).toEqual({ totalCount: 0 });
  });

  it('gives the operator the default team as its own, and every team in viewer.teams', async () => {
    const { key } = await mint(h, 'op-view', ['WRITE']);
    const teamId = await createTeam(h, key, 'op-view-team');
    const viewer = (await h.gql(VIEWER)).data.viewer;
    expect(viewer).toMatchObject({ user: 'admin', team: { slug: 'default', viewerRole: null } });
    expect(viewer.teams.map((t: { slug: string }) => t.slug)).toContain('op-view-team');
    expect(viewer.teams.length).toBe(await db().team.count());
    expect(teamId).toBeTruthy();
  });
});

describe('members', () => {
  it('lists members by role, then by when they joined', async () => {
    const owner = await mint(h, 'order-owner', ['ADMIN']);
    const teamId = await createTeam(h, owner.key, 'order-team');
    for (const [user, role] of [
      ['order-viewer', 'VIEWER'],
      ['order-member', 'MEMBER'],
      ['order-admin', 'ADMIN'],
      ['order-member-2', 'MEMBER'],
    ] as const)
      await join(h, owner.key, teamId, (await mint(h, user, ['READ'])).key, role);
    const members = (await h.gql(TEAM, { id: teamId }, owner.key)).data.team.members;
    expect(members).toEqual([
      { user: 'order-owner', role: 'OWNER' },
      { user: 'order-admin', role: 'ADMIN' },
      { user: 'order-member', role: 'MEMBER' },
      { user: 'order-member-2', role: 'MEMBER' },
      { user: 'order-viewer', role: 'VIEWER' },
    ]);
  });
});
