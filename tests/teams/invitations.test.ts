// Invitations: a token shown once (stored hashed), single use, for a fixed role, 7 days by
// default; who may invite to which role; every way accepting one can fail, with its reason.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { accept, createTeam, invite, join, mint } from '../utils/teams.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

const INVITE = `mutation($teamId: ID!, $role: TeamRole!, $days: Int) {
  inviteToTeam(teamId: $teamId, role: $role, expiresInDays: $days) {
    token invitation { id role createdAt expiresAt acceptedAt invitedBy } } }`;
const reason = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  response.errors?.[0]?.extensions?.reason;

async function teamOf(owner: string, slug: string) {
  const { key } = await mint(h, owner, ['ADMIN']);
  return { key, teamId: await createTeam(h, key, slug) };
}

describe('inviteToTeam', () => {
  it('returns a token once, stores its hash, for a fixed role, expiring in 7 days by default', async () => {
    const { key, teamId } = await teamOf('inv-owner', 'inv-team');
    const before = Date.now();
    const response = await h.gql(INVITE, { teamId, role: 'MEMBER' }, key);
    const after = Date.now();
    expect(response.errors).toBeUndefined();
    const { token, invitation } = response.data.inviteToTeam;
    expect(invitation).toMatchObject({ role: 'MEMBER', acceptedAt: null, invitedBy: 'inv-owner' });
    // Set in this process during the request: within 7 days of its start and of its end.
    const expiresAt = Date.parse(invitation.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 7 * 86_400_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 7 * 86_400_000);
    const row = await db().teamInvitation.findUniqueOrThrow({
      where: { id: rowId(invitation.id) },
    });
    expect(row.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(token);
    const listed = await h.gql(
      'query($id: ID!) { team(id: $id) { invitations { id role invitedBy } } }',
      { id: teamId },
      key,
    );
    expect(listed.data.team.invitations).toEqual([
      { id: invitation.id, role: 'MEMBER', invitedBy: 'inv-owner' },
    ]);

    const shorter = await h.gql(INVITE, { teamId, role: 'VIEWER', days: 1 }, key);
    const inDays =
      (Date.parse(shorter.data.inviteToTeam.invitation.expiresAt) - before) / 86_400_000;
    expect(Math.round(inDays)).toBe(1);
    for (const days of [0, 31, -1]) {
      const bad = await h.gql(INVITE, { teamId, role: 'VIEWER', days }, key);
      expect(errorCodes(bad), String(days)).toEqual(['BAD_USER_INPUT']);
      expect(bad.errors![0]!.extensions!.argument).toBe('expiresInDays');
    }
  });

  it('refuses a role above the inviter’s own, an OWNER but by an OWNER, non-administrators and non-members', async () => {
    const { key: owner, teamId } = await teamOf('rank-owner', 'rank-team');
    const admin = await mint(h, 'rank-admin', ['ADMIN']);
    await join(h, owner, teamId, admin.key, 'ADMIN');
    const adminKey = (await mint(h, 'rank-admin', ['ADMIN'], teamId, admin.key)).key;
    expect(errorCodes(await h.gql(INVITE, { teamId, role: 'OWNER' }, adminKey))).toEqual([
      'FORBIDDEN',
    ]);
    expect((await h.gql(INVITE, { teamId, role: 'ADMIN' }, adminKey)).errors).toBeUndefined();
    expect((await h.gql(INVITE, { teamId, role: 'OWNER' }, owner)).errors).toBeUndefined();

    const member = await mint(h, 'rank-member', ['WRITE']);
    await join(h, owner, teamId, member.key, 'MEMBER');
    expect(errorCodes(await h.gql(INVITE, { teamId, role: 'VIEWER' }, member.key))).toEqual([
      'FORBIDDEN',
    ]);
    // An ADMIN whose key lacks the ADMIN scope does not administer.
    const weak = (await mint(h, 'rank-admin', ['WRITE'], teamId, admin.key)).key;
    expect(errorCodes(await h.gql(INVITE, { teamId, role: 'VIEWER' }, weak))).toEqual([
      'FORBIDDEN',
    ]);
    const outsider = await mint(h, 'rank-outsider', ['ADMIN']);
    expect(errorCodes(await h.gql(INVITE, { teamId, role: 'VIEWER' }, outsider.key))).toEqual([
      'NOT_FOUND',
    ]);
    // Pending invitations are for administrators only.
    const seen = await h.gql(
      'query($id: ID!) { team(id: $id) { invitations { id } } }',
      { id: teamId },
      member.key,
    );
    expect(seen.data.team.invitations).toEqual([]);
    // The operator invites to any team, as an OWNER would.
    expect((await h.gql(INVITE, { teamId, role: 'OWNER' })).errors).toBeUndefined();
  });
});

describe('acceptTeamInvitation', () => {
  it('joins with the invitation’s role, once', async () => {
    const { key: owner, teamId } = await teamOf('acc-owner', 'acc-team');
    const { token, id } = await invite(h, owner, teamId, 'VIEWER');
    const joiner = await mint(h, 'acc-joiner', ['WRITE']);
    const accepted = await accept(h, joiner.key, token);
    expect(accepted.data.acceptTeamInvitation).toEqual({ id: teamId, viewerRole: 'VIEWER' });
    // Its next request sees the new team at once (its cached key was dropped).
    const teams = await h.gql('{ viewer { teams { id viewerRole } } }', {}, joiner.key);
    expect(teams.data.viewer.teams).toContainEqual({ id: teamId, viewerRole: 'VIEWER' });
    const used = await accept(h, (await mint(h, 'acc-late', ['READ'])).key, token);
    expect(errorCodes(used)).toEqual(['CONFLICT']);
    expect(reason(used)).toBe('INVITATION_USED');
    const row = await db().teamInvitation.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(row.acceptedAt).not.toBeNull();
    expect(
      (
        await h.gql(
          'query($id: ID!) { team(id: $id) { invitations { id } } }',
          { id: teamId },
          owner,
        )
      ).data.team.invitations,
    ).toEqual([]);
  });

  it("refuses the operator's key (FORBIDDEN), leaving the invitation for a person", async () => {
    const { key: owner, teamId } = await teamOf('op-owner', 'op-team');
    const { token, id } = await invite(h, owner, teamId, 'MEMBER');
    expect(errorCodes(await accept(h, h.adminKey, token))).toEqual(['FORBIDDEN']);
    const row = await db().teamInvitation.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(row.acceptedAt).toBeNull();
    const joiner = await mint(h, 'op-joiner', ['READ']);
    expect((await accept(h, joiner.key, token)).data.acceptTeamInvitation.id).toBe(teamId);
  });

  it('refuses an unknown token (NOT_FOUND), an expired one and a member (CONFLICT with the reason)', async () => {
    const { key: owner, teamId } = await teamOf('ref-owner', 'ref-team');
    const joiner = await mint(h, 'ref-joiner', ['READ']);
    expect(errorCodes(await accept(h, joiner.key, 'agi_unknown'))).toEqual(['NOT_FOUND']);

    const expired = await invite(h, owner, teamId, 'MEMBER');
    await db().teamInvitation.update({
      where: { id: rowId(expired.id) },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    const late = await accept(h, joiner.key, expired.token);
    expect(errorCodes(late)).toEqual(['CONFLICT']);
    expect(reason(late)).toBe('INVITATION_EXPIRED');

    const forOwner = await invite(h, owner, teamId, 'VIEWER');
    const already = await accept(h, owner, forOwner.token);
    expect(errorCodes(already)).toEqual(['CONFLICT']);
    expect(reason(already)).toBe('ALREADY_MEMBER');
    // The invitation stays unused: someone else can still take it.
    expect((await accept(h, joiner.key, forOwner.token)).errors).toBeUndefined();
    const roles = await db().teamMember.findMany({
      where: { teamId: rowId(teamId) },
      select: { role: true },
    });
    expect(roles.map((r) => r.role).sort()).toEqual(['OWNER', 'VIEWER']);
  });

  it('lets one of two concurrent accepts of a token win', async () => {
    const { key: owner, teamId } = await teamOf('race-owner', 'race-team');
    const { token } = await invite(h, owner, teamId, 'MEMBER');
    const racers = await Promise.all(
      ['race-a', 'race-b', 'race-c'].map(async (user) => (await mint(h, user, ['READ'])).key),
    );
    const results = await Promise.all(racers.map((key) => accept(h, key, token)));
    const won = results.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.errors))
      expect(reason(lost)).toBe('INVITATION_USED');
    expect(await db().teamMember.count({ where: { teamId: rowId(teamId) } })).toBe(2);
  });
});
