// Withdrawing a pending invitation: revokeTeamInvitation, for those who administer its team
// (NOT_FOUND to anyone else, no existence oracle); its token then fails with
// INVITATION_REVOKED; a used one cannot be withdrawn (INVITATION_USED); withdrawing twice is
// harmless (true). Team.invitations lists pending invitations only.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { accept, createTeam, invite, join, mint } from '../utils/teams.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();

const REVOKE = 'mutation($id: ID!) { revokeTeamInvitation(id: $id) }';
const PENDING = 'query($id: ID!) { team(id: $id) { invitations { id } } }';
const reason = (response: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  response.errors?.[0]?.extensions?.reason;

async function teamOf(slug: string) {
  const home = await mint(h, `${slug}-owner`, ['ADMIN']);
  const teamId = await createTeam(h, home.key, slug);
  return { owner: home.key, teamId };
}

const revokedAt = async (id: string) =>
  (await db().teamInvitation.findUniqueOrThrow({ where: { id: rowId(id) } })).revokedAt;
const pending = async (teamId: string, key: string) =>
  ((await h.gql(PENDING, { id: teamId }, key)).data.team.invitations as Array<{ id: string }>).map(
    (i) => i.id,
  );

describe('revokeTeamInvitation', () => {
  it('withdraws a pending invitation: gone from the list, its token refused with INVITATION_REVOKED', async () => {
    const { owner, teamId } = await teamOf('rvk-team');
    const kept = await invite(h, owner, teamId, 'VIEWER');
    const withdrawn = await invite(h, owner, teamId, 'MEMBER');
    expect(await pending(teamId, owner)).toEqual([withdrawn.id, kept.id]);

    expect((await h.gql(REVOKE, { id: withdrawn.id }, owner)).data).toEqual({
      revokeTeamInvitation: true,
    });
    const first = await revokedAt(withdrawn.id);
    expect(first).not.toBeNull();
    expect(await pending(teamId, owner)).toEqual([kept.id]);

    const joiner = await mint(h, 'rvk-joiner', ['WRITE']);
    const refused = await accept(h, joiner.key, withdrawn.token);
    expect(errorCodes(refused)).toEqual(['CONFLICT']);
    expect(reason(refused)).toBe('INVITATION_REVOKED');
    expect(await db().teamMember.count({ where: { teamId: rowId(teamId) } })).toBe(1);

    // Again: nothing changes, and it says so the same way.
    expect((await h.gql(REVOKE, { id: withdrawn.id }, owner)).data).toEqual({
      revokeTeamInvitation: true,
    });
    expect(await revokedAt(withdrawn.id)).toEqual(first);
    // The other invitation still works.
    expect((await accept(h, joiner.key, kept.token)).errors).toBeUndefined();
  });

  it('refuses a used invitation with CONFLICT (INVITATION_USED); withdraws an expired one', async () => {
    const { owner, teamId } = await teamOf('rvk-used');
    const used = await invite(h, owner, teamId, 'MEMBER');
    const joiner = await mint(h, 'rvk-user', ['WRITE']);
    expect((await accept(h, joiner.key, used.token)).errors).toBeUndefined();
    const late = await h.gql(REVOKE, { id: used.id }, owner);
    expect(errorCodes(late)).toEqual(['CONFLICT']);
    expect(reason(late)).toBe('INVITATION_USED');
    expect(late.data).toBeNull();
    expect(await revokedAt(used.id)).toBeNull();

    const expired = await invite(h, owner, teamId, 'VIEWER');
    await db().teamInvitation.update({
      where: { id: rowId(expired.id) },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    expect((await h.gql(REVOKE, { id: expired.id }, owner)).data).toEqual({
      revokeTeamInvitation: true,
    });
    expect(await revokedAt(expired.id)).not.toBeNull();
  });

  it('is NOT_FOUND to all but those who administer the team, and changes nothing for them', async () => {
    const { owner, teamId } = await teamOf('rvk-who');
    const { id } = await invite(h, owner, teamId, 'VIEWER');
    const member = await mint(h, 'rvk-member', ['WRITE']);
    await join(h, owner, teamId, member.key, 'MEMBER');
    const admin = await mint(h, 'rvk-admin', ['ADMIN']);
    await join(h, owner, teamId, admin.key, 'ADMIN');
    // An ADMIN whose key lacks the ADMIN scope does not administer (nor see invitations).
    const weakAdmin = await mint(h, 'rvk-admin', ['WRITE'], teamId, admin.key);
    const other = await teamOf('rvk-other');
    const malformed = Buffer.from('TeamInvitation:not-a-uuid').toString('base64');
    for (const [who, key, target] of [
      ['a MEMBER', member.key, id],
      ['an ADMIN with a WRITE key', weakAdmin.key, id],
      ['another team’s OWNER', other.owner, id],
      ['an unknown id', owner, malformed],
      ['another type’s id', owner, teamId],
    ] as const) {
      const response = await h.gql(REVOKE, { id: target }, key);
      expect(errorCodes(response), who).toEqual(['NOT_FOUND']);
    }
    expect(await revokedAt(id)).toBeNull();
    // Those who administer it (an ADMIN with an ADMIN key, the operator) may.
    const second = await invite(h, owner, teamId, 'MEMBER');
    expect((await h.gql(REVOKE, { id }, admin.key)).data).toEqual({ revokeTeamInvitation: true });
    expect((await h.gql(REVOKE, { id: second.id })).data).toEqual({ revokeTeamInvitation: true });
    expect(await pending(teamId, owner)).toEqual([]);
  });

  it('settles a race with an accept one way or the other, never both', async () => {
    const { owner, teamId } = await teamOf('rvk-race');
    for (let round = 0; round < 5; round++) {
      const { id, token } = await invite(h, owner, teamId, 'VIEWER');
      const joiner = await mint(h, `rvk-racer-${round}`, ['READ']);
      const [revoked, accepted] = await Promise.all([
        h.gql(REVOKE, { id }, owner),
        accept(h, joiner.key, token),
      ]);
      const row = await db().teamInvitation.findUniqueOrThrow({ where: { id: rowId(id) } });
      const joined = await db().teamMember.count({
        where: { teamId: rowId(teamId), user: { name: `rvk-racer-${round}` } },
      });
      if (accepted.errors) {
        expect(reason(accepted), `round ${round}`).toBe('INVITATION_REVOKED');
        expect(revoked.data).toEqual({ revokeTeamInvitation: true });
        expect([row.revokedAt !== null, row.acceptedAt, joined]).toEqual([true, null, 0]);
      } else {
        expect(reason(revoked), `round ${round}`).toBe('INVITATION_USED');
        expect([row.revokedAt, row.acceptedAt !== null, joined]).toEqual([null, true, 1]);
      }
    }
  });
});
