// Changing members: roles (nobody above their own; OWNERs by OWNERs; never the last OWNER),
// removing (the member's keys of the team are revoked with it), leaving, handing over
// ownership, and the last-OWNER rule under concurrent changes.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { createTeam, join, mint } from '../utils/teams.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

const ROLE = `mutation($t: ID!, $u: String!, $r: TeamRole!) {
  changeTeamMemberRole(teamId: $t, user: $u, role: $r) { user role joinedAt } }`;
const REMOVE = 'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }';
const LEAVE = 'mutation($t: ID!) { leaveTeam(teamId: $t) }';
const TRANSFER = `mutation($t: ID!, $u: String!) { transferTeamOwnership(teamId: $t, user: $u) {
  viewerRole members { user role } } }`;
const reason = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  response.errors?.[0]?.extensions?.reason;

/** A team with an OWNER and members of the given roles; every key is of the team. */
async function team(slug: string, roles: Record<string, 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER'>) {
  const home = await mint(h, `${slug}-owner`, ['ADMIN']);
  const teamId = await createTeam(h, home.key, slug);
  const keys: Record<string, string> = {
    owner: (await mint(h, `${slug}-owner`, ['ADMIN'], teamId, home.key)).key,
  };
  for (const [name, role] of Object.entries(roles)) {
    const user = `${slug}-${name}`;
    const own = await mint(h, user, ['ADMIN']);
    await join(h, keys.owner!, teamId, own.key, role);
    const scopes = role === 'VIEWER' ? ['READ'] : role === 'MEMBER' ? ['WRITE'] : ['ADMIN'];
    keys[name] = (await mint(h, user, scopes as never, teamId, own.key)).key;
  }
  return { teamId, keys };
}

describe('changeTeamMemberRole', () => {
  it('changes a role within the caller’s own, and only an OWNER makes or changes an OWNER', async () => {
    const { teamId, keys } = await team('roles', { admin: 'ADMIN', member: 'MEMBER' });
    const promoted = await h.gql(ROLE, { t: teamId, u: 'roles-member', r: 'ADMIN' }, keys.admin);
    expect(promoted.data.changeTeamMemberRole).toMatchObject({
      user: 'roles-member',
      role: 'ADMIN',
    });
    for (const [u, r] of [
      ['roles-member', 'OWNER'],
      ['roles-owner', 'MEMBER'],
    ])
      expect(errorCodes(await h.gql(ROLE, { t: teamId, u, r }, keys.admin)), `${u}→${r}`).toEqual([
        'FORBIDDEN',
      ]);
    const viewer = await h.gql(ROLE, { t: teamId, u: 'roles-admin', r: 'VIEWER' }, keys.member);
    expect(errorCodes(viewer)).toEqual(['FORBIDDEN']); // roles-member is an ADMIN now, with a WRITE key
    expect(
      (await h.gql(ROLE, { t: teamId, u: 'roles-member', r: 'OWNER' }, keys.owner)).errors,
    ).toBeUndefined();
    expect(
      errorCodes(await h.gql(ROLE, { t: teamId, u: 'nobody', r: 'VIEWER' }, keys.owner)),
    ).toEqual(['NOT_FOUND']);
  });

  it('never demotes the last OWNER (CONFLICT, LAST_OWNER), even when two step down at once', async () => {
    const alone = await team('alone', {});
    const self = await h.gql(
      ROLE,
      { t: alone.teamId, u: 'alone-owner', r: 'ADMIN' },
      alone.keys.owner,
    );
    expect(errorCodes(self)).toEqual(['CONFLICT']);
    expect(reason(self)).toBe('LAST_OWNER');
    // Two OWNERs step down at once: one does, the other is the last OWNER then.
    const { teamId, keys } = await team('last', { second: 'OWNER' });
    const [a, b] = await Promise.all([
      h.gql(ROLE, { t: teamId, u: 'last-owner', r: 'ADMIN' }, keys.owner),
      h.gql(ROLE, { t: teamId, u: 'last-second', r: 'ADMIN' }, keys.second),
    ]);
    expect([a, b].filter((r) => !r.errors)).toHaveLength(1);
    expect([a, b].map(reason).filter(Boolean)).toEqual(['LAST_OWNER']);
    expect(await db().teamMember.count({ where: { teamId: rowId(teamId), role: 'OWNER' } })).toBe(
      1,
    );
    // Likewise two OWNERs leaving at once.
    const pair = await team('pair', { second: 'OWNER' });
    const left = await Promise.all([
      h.gql(LEAVE, { t: pair.teamId }, pair.keys.owner),
      h.gql(LEAVE, { t: pair.teamId }, pair.keys.second),
    ]);
    expect(left.filter((r) => !r.errors)).toHaveLength(1);
    expect(left.map(reason).filter(Boolean)).toEqual(['LAST_OWNER']);
    expect(
      await db().teamMember.count({ where: { teamId: rowId(pair.teamId), role: 'OWNER' } }),
    ).toBe(1);
  });
});

describe('removeTeamMember and leaveTeam', () => {
  it("revokes the member's keys of the team with the membership, at once", async () => {
    const { teamId, keys } = await team('rmv', { member: 'MEMBER', admin: 'ADMIN' });
    expect((await h.gql('{ viewer { user } }', {}, keys.member)).status).toBe(200);
    const removed = await h.gql(REMOVE, { t: teamId, u: 'rmv-member' }, keys.admin);
    expect(removed.data).toEqual({ removeTeamMember: true });
    const refused = await h.gql('{ viewer { user } }', {}, keys.member);
    expect(refused.status).toBe(401);
    expect(errorCodes(refused)).toEqual(['UNAUTHENTICATED']);
    const rows = await db().apiKey.findMany({
      where: { teamId: rowId(teamId), user: { name: 'rmv-member' } },
    });
    expect(rows.every((row) => row.revokedAt !== null)).toBe(true);
    // Their own team's keys stay.
    const home = await db().apiKey.findMany({
      where: { user: { name: 'rmv-member' }, NOT: { teamId: rowId(teamId) } },
    });
    expect(home.every((row) => row.revokedAt === null)).toBe(true);
    expect(errorCodes(await h.gql(REMOVE, { t: teamId, u: 'rmv-member' }, keys.admin))).toEqual([
      'NOT_FOUND',
    ]);
  });

  it('lets ADMINs remove no OWNER, and keeps the last OWNER', async () => {
    const { teamId, keys } = await team('rmo', { admin: 'ADMIN', viewer: 'VIEWER' });
    expect(errorCodes(await h.gql(REMOVE, { t: teamId, u: 'rmo-owner' }, keys.admin))).toEqual([
      'FORBIDDEN',
    ]);
    expect(errorCodes(await h.gql(REMOVE, { t: teamId, u: 'rmo-admin' }, keys.viewer))).toEqual([
      'FORBIDDEN',
    ]);
    const last = await h.gql(REMOVE, { t: teamId, u: 'rmo-owner' }, keys.owner);
    expect(reason(last)).toBe('LAST_OWNER');
    const leave = await h.gql(LEAVE, { t: teamId }, keys.owner);
    expect(errorCodes(leave)).toEqual(['CONFLICT']);
    expect(reason(leave)).toBe('LAST_OWNER');
  });

  it('lets a member leave (even a VIEWER), revoking their keys of the team', async () => {
    const { teamId, keys } = await team('lvv', { viewer: 'VIEWER' });
    expect((await h.gql(LEAVE, { t: teamId }, keys.viewer)).data).toEqual({ leaveTeam: true });
    expect((await h.gql('{ viewer { user } }', {}, keys.viewer)).status).toBe(401);
    const outsider = await mint(h, 'lvv-outsider', ['WRITE']);
    expect(errorCodes(await h.gql(LEAVE, { t: teamId }, outsider.key))).toEqual(['NOT_FOUND']);
  });
});

describe('transferTeamOwnership', () => {
  it('makes the member an OWNER and the calling OWNER an ADMIN', async () => {
    const { teamId, keys } = await team('trf', { admin: 'ADMIN' });
    expect(errorCodes(await h.gql(TRANSFER, { t: teamId, u: 'trf-owner' }, keys.admin))).toEqual([
      'FORBIDDEN',
    ]);
    const self = await h.gql(TRANSFER, { t: teamId, u: 'trf-owner' }, keys.owner);
    expect(errorCodes(self)).toEqual(['BAD_USER_INPUT']);
    const done = await h.gql(TRANSFER, { t: teamId, u: 'trf-admin' }, keys.owner);
    expect(done.errors).toBeUndefined();
    expect(done.data.transferTeamOwnership.members).toEqual([
      { user: 'trf-admin', role: 'OWNER' },
      { user: 'trf-owner', role: 'ADMIN' },
    ]);
    // The former owner may leave now; the new one may not.
    expect((await h.gql(LEAVE, { t: teamId }, keys.owner)).data).toEqual({ leaveTeam: true });
    expect(reason(await h.gql(LEAVE, { t: teamId }, keys.admin))).toBe('LAST_OWNER');
  });
});
