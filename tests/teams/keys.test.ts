// Keys belong to one team and one member: what a key may do is the lesser of its scopes and
// the member's role there; who mints which key for whom; who lists and revokes which keys.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { createAgent } from '../utils/response-cache.js';
import { accept, createTeam, invite, join, mint, MINT } from '../utils/teams.js';

const h = useHarness();

const scopesOf = async (key: string) =>
  new Set((await h.gql('{ viewer { scopes } }', {}, key)).data.viewer.scopes);
const mintAs = (by: string | undefined, user: string, scopes: string[], teamId?: string) =>
  h.gql(MINT, { input: { user, name: 'k', scopes, teamId } }, by);

describe('effective scopes', () => {
  it('are the lesser of the key’s scopes and the member’s role, and follow a role change at once', async () => {
    const owner = await mint(h, 'eff-owner', ['ADMIN']);
    const teamId = await createTeam(h, owner.key, 'eff-team');
    const home = await mint(h, 'eff-member', ['ADMIN']);
    await join(h, owner.key, teamId, home.key, 'ADMIN');
    const key = (await mint(h, 'eff-member', ['ADMIN'], teamId, home.key)).key;
    expect(await scopesOf(key)).toEqual(new Set(['READ', 'WRITE', 'ADMIN']));
    const role = `mutation($t: ID!, $r: TeamRole!) { changeTeamMemberRole(teamId: $t, user: "eff-member", role: $r) { role } }`;
    await h.gql(role, { t: teamId, r: 'VIEWER' }, owner.key);
    expect(await scopesOf(key)).toEqual(new Set(['READ']));
    const write = await h.gql(
      'mutation { createTemplate(input: { name: "x", category: DOCS, content: "y" }) { id } }',
      {},
      key,
    );
    expect(errorCodes(write)).toEqual(['FORBIDDEN']);
    await h.gql(role, { t: teamId, r: 'MEMBER' }, owner.key);
    expect(await scopesOf(key)).toEqual(new Set(['READ', 'WRITE']));
  });
});

describe('createApiKey', () => {
  it('lets a member mint for themselves up to their role there and their key’s scopes', async () => {
    const owner = await mint(h, 'self-owner', ['ADMIN']);
    const teamId = await createTeam(h, owner.key, 'self-team');
    const home = await mint(h, 'self-viewer', ['WRITE']);
    await join(h, owner.key, teamId, home.key, 'VIEWER');
    const read = await mintAs(home.key, 'self-viewer', ['READ'], teamId);
    expect(read.errors).toBeUndefined();
    expect(errorCodes(await mintAs(home.key, 'self-viewer', ['WRITE'], teamId))).toEqual([
      'FORBIDDEN',
    ]);
    // Never above the calling key's own scopes: a READ key mints no WRITE key, even at home.
    const reader = read.data.createApiKey.key;
    const reading = await mint(h, 'self-reader', ['READ']);
    expect(errorCodes(await mintAs(reading.key, 'self-reader', ['WRITE']))).toEqual(['FORBIDDEN']);
    expect((await mintAs(reading.key, 'self-reader', ['READ'])).errors).toBeUndefined();
    expect(errorCodes(await mintAs(reader, 'self-viewer', ['READ'], teamId))).toEqual([]);
  });

  it('lets administrators mint for other members up to their role, and no one for a non-member', async () => {
    const owner = await mint(h, 'adm-owner', ['ADMIN']);
    const teamId = await createTeam(h, owner.key, 'adm-team');
    const member = await mint(h, 'adm-member', ['READ']);
    await join(h, owner.key, teamId, member.key, 'MEMBER');
    const minted = await mintAs(owner.key, 'adm-member', ['WRITE'], teamId);
    expect(minted.errors).toBeUndefined();
    expect(minted.data.createApiKey).toMatchObject({ user: 'adm-member', scopes: ['WRITE'] });
    expect(errorCodes(await mintAs(owner.key, 'adm-member', ['ADMIN'], teamId))).toEqual([
      'FORBIDDEN',
    ]);
    // A member who does not administer mints for no one else.
    const memberKey = minted.data.createApiKey.key;
    expect(errorCodes(await mintAs(memberKey, 'adm-owner', ['READ'], teamId))).toEqual([
      'FORBIDDEN',
    ]);
    for (const invisible of ['\u200b', '\u3164', '\u034f', '\ufe0f', '\u2800'])
      expect(
        (await mintAs(undefined, `adm-me${invisible}mber`, ['READ'])).errors?.[0]?.extensions,
      ).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input.user' });
    const notMember = await mintAs(owner.key, 'adm-stranger', ['READ'], teamId);
    expect(errorCodes(notMember)).toEqual(['BAD_USER_INPUT']);
    expect(notMember.errors![0]!.extensions!.argument).toBe('input.user');
    expect(await db().user.count({ where: { name: 'adm-stranger' } })).toBe(0);
    // The operator mints into any team, but only for its members.
    expect((await mintAs(undefined, 'adm-member', ['ADMIN'], teamId)).errors).toBeUndefined();
    expect(errorCodes(await mintAs(undefined, 'adm-newcomer', ['READ'], teamId))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(await db().user.count({ where: { name: 'adm-newcomer' } })).toBe(0);
    // Without a team, into another user's personal team: the operator's alone.
    expect(errorCodes(await mintAs(owner.key, 'adm-member', ['READ']))).toEqual(['FORBIDDEN']);
    // A team the caller is not in does not exist for it.
    const outsider = await mint(h, 'adm-outsider', ['ADMIN']);
    expect(errorCodes(await mintAs(outsider.key, 'adm-outsider', ['READ'], teamId))).toEqual([
      'NOT_FOUND',
    ]);
  });
});

describe('keys an administrator mints for other members', () => {
  it('are for members not above the minter, act in their team only, and end when the minter stops administering', async () => {
    const owner = await mint(h, 'dlg-owner', ['ADMIN']);
    const teamId = await createTeam(h, owner.key, 'dlg-team');
    const ownerInTeam = await mint(h, 'dlg-owner', ['ADMIN'], teamId, owner.key);
    const admin = await mint(h, 'dlg-admin', ['ADMIN']);
    await join(h, ownerInTeam.key, teamId, admin.key, 'ADMIN');
    const adminInTeam = await mint(h, 'dlg-admin', ['ADMIN'], teamId, admin.key);
    const frank = await mint(h, 'dlg-frank', ['ADMIN']);
    await join(h, ownerInTeam.key, teamId, frank.key, 'MEMBER');
    // An ADMIN acting as the OWNER would be the OWNER: refused, whatever the scopes.
    expect(errorCodes(await mintAs(adminInTeam.key, 'dlg-owner', ['READ'], teamId))).toEqual([
      'FORBIDDEN',
    ]);
    // Frank's own team holds a private agent; the key the ADMIN mints for him does not reach it.
    const privateAgent = await createAgent(h, frank.key, 'frank-private');
    const minted = await mintAs(adminInTeam.key, 'dlg-frank', ['WRITE'], teamId);
    expect(minted.errors).toBeUndefined();
    const delegated = minted.data.createApiKey.key as string;
    const agentQuery = `query($id: ID!) { agent(id: $id) { id } }`;
    expect((await h.gql(agentQuery, { id: privateAgent }, frank.key)).data.agent).not.toBeNull();
    expect((await h.gql(agentQuery, { id: privateAgent }, delegated)).data.agent).toBeNull();
    const teamQuery = `query($id: ID!) { team(id: $id) { id } }`;
    expect((await h.gql(teamQuery, { id: teamId }, delegated)).data.team).not.toBeNull();
    // It acts on frank's account nowhere: no keys (for any team), teams, invitations; and it
    // sees and revokes only his keys of its team.
    for (const teamIdOrNone of [teamId, undefined])
      expect(errorCodes(await mintAs(delegated, 'dlg-frank', ['READ'], teamIdOrNone))).toEqual([
        'FORBIDDEN',
      ]);
    expect(
      errorCodes(
        await h.gql(
          'mutation { createTeam(input: { name: "Elsewhere", slug: "dlg-elsewhere" }) { id } }',
          {},
          delegated,
        ),
      ),
    ).toEqual(['FORBIDDEN']);
    const elsewhere = await createTeam(h, owner.key, 'dlg-other');
    const otherInvite = await invite(h, owner.key, elsewhere, 'MEMBER');
    expect(errorCodes(await accept(h, delegated, otherInvite.token))).toEqual(['FORBIDDEN']);
    const keysOf = async (key: string) =>
      (await h.gql('{ apiKeys(user: "dlg-frank") { id } }', {}, key)).data.apiKeys.map(
        (k: { id: string }) => k.id,
      );
    expect(await keysOf(frank.key)).toContain(frank.id);
    expect(await keysOf(delegated)).not.toContain(frank.id);
    const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }';
    expect(errorCodes(await h.gql(REVOKE_KEY, { id: frank.id }, delegated))).toEqual(['NOT_FOUND']);
    // And no ADMIN key for another member at all: administering stays with their own keys.
    expect(errorCodes(await mintAs(ownerInTeam.key, 'dlg-frank', ['ADMIN'], teamId))).toEqual([
      'FORBIDDEN',
    ]);
    const row = await db().apiKey.findFirstOrThrow({
      where: { user: { name: 'dlg-frank' }, mintedById: { not: null } },
    });
    expect(row.mintedById).toBe(
      (await db().user.findUniqueOrThrow({ where: { name: 'dlg-admin' } })).id,
    );
    // What the ADMIN gave out ends with their administering: the key, and a pending invitation.
    const pending = await invite(h, adminInTeam.key, teamId, 'ADMIN');
    const remove = `mutation($teamId: ID!) { removeTeamMember(teamId: $teamId, user: "dlg-admin") }`;
    expect((await h.gql(remove, { teamId }, ownerInTeam.key)).errors).toBeUndefined();
    expect(errorCodes(await h.gql(teamQuery, { id: teamId }, delegated))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(
      (await db().apiKey.findUniqueOrThrow({ where: { id: row.id } })).revokedAt,
    ).not.toBeNull();
    const comeback = await accept(h, admin.key, pending.token);
    expect(comeback.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'INVITATION_REVOKED',
    });
    // Demoted below ADMIN: the same.
    const jill = await mint(h, 'dlg-jill', ['ADMIN']);
    await join(h, ownerInTeam.key, teamId, jill.key, 'ADMIN');
    const jillInTeam = await mint(h, 'dlg-jill', ['ADMIN'], teamId, jill.key);
    const jillsKey = (await mintAs(jillInTeam.key, 'dlg-frank', ['READ'], teamId)).data.createApiKey
      .key as string;
    const jillsInvite = await invite(h, jillInTeam.key, teamId, 'MEMBER');
    const demote = `mutation($teamId: ID!) { changeTeamMemberRole(teamId: $teamId, user: "dlg-jill", role: MEMBER) { role } }`;
    expect((await h.gql(demote, { teamId }, ownerInTeam.key)).errors).toBeUndefined();
    expect(errorCodes(await h.gql(teamQuery, { id: teamId }, jillsKey))).toEqual([
      'UNAUTHENTICATED',
    ]);
    const outsider = await mint(h, 'dlg-outsider', ['READ']);
    expect(
      (await accept(h, outsider.key, jillsInvite.token)).errors?.[0]?.extensions,
    ).toMatchObject({ code: 'CONFLICT', reason: 'INVITATION_REVOKED' });
    // An ADMIN revokes no OWNER's key (as it removes no OWNER); the OWNER revokes an ADMIN's.
    const ken = await mint(h, 'dlg-ken', ['ADMIN']);
    await join(h, ownerInTeam.key, teamId, ken.key, 'ADMIN');
    const kenInTeam = await mint(h, 'dlg-ken', ['ADMIN'], teamId, ken.key);
    const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
    expect(errorCodes(await h.gql(REVOKE, { id: ownerInTeam.id }, kenInTeam.key))).toEqual([
      'FORBIDDEN',
    ]);
    expect(
      (await h.gql(REVOKE, { id: kenInTeam.id }, ownerInTeam.key)).data.revokeApiKey.revokedAt,
    ).not.toBeNull();
    // Keys their minters made for themselves, and the OWNER's, are untouched.
    expect((await h.gql(teamQuery, { id: teamId }, ownerInTeam.key)).data.team).not.toBeNull();
    expect((await h.gql(teamQuery, { id: teamId }, frank.key)).errors).toBeUndefined();
  });
});

describe('idempotency keys across a user’s teams', () => {
  it('are CONFLICT (IDEMPOTENCY_KEY_USED), not NOT_FOUND, where the first workflow is not seen', async () => {
    const owner = await mint(h, 'idem-owner', ['ADMIN']);
    const teamX = await createTeam(h, owner.key, 'idem-x');
    const ownerInX = await mint(h, 'idem-owner', ['ADMIN'], teamX, owner.key);
    const member = await mint(h, 'idem-member', ['WRITE']);
    await join(h, ownerInX.key, teamX, member.key, 'MEMBER');
    const RUN = `mutation($key: String) { runWorkflow(input: { goal: "g", agentIds: [] }, idempotencyKey: $key) { id } }`;
    // The member's own key (every team of theirs) spends the key in their personal team.
    const first = await h.gql(RUN, { key: 'idem-1' }, member.key);
    expect(first.errors).toBeUndefined();
    expect((await h.gql(RUN, { key: 'idem-1' }, member.key)).data.runWorkflow.id).toBe(
      first.data.runWorkflow.id,
    );
    // A key the OWNER minted for them acts in team X only: it does not see that workflow.
    const delegated = (await mintAs(ownerInX.key, 'idem-member', ['WRITE'], teamX)).data
      .createApiKey.key;
    expect((await h.gql(RUN, { key: 'idem-1' }, delegated)).errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
    expect((await h.gql(RUN, { key: 'idem-2' }, delegated)).errors).toBeUndefined();
  });

  it('never answer with the task of another team than the key’s', async () => {
    const owner = await mint(h, 'idem-task-owner', ['ADMIN']);
    const teamX = await createTeam(h, owner.key, 'idem-task-x');
    const ownerInX = await mint(h, 'idem-task-owner', ['ADMIN'], teamX, owner.key);
    const member = await mint(h, 'idem-task-member', ['WRITE']);
    await join(h, ownerInX.key, teamX, member.key, 'MEMBER');
    const agentId = await createAgent(h, ownerInX.key, 'idem-task-agent');
    const REFRESH = `mutation($agentId: ID!, $key: String) {
      refreshCoverage(input: { agentId: $agentId, background: true, idempotencyKey: $key }) {
        task { id } } }`;
    // The member's own key (every team of theirs) spends the key in their personal team.
    const first = await h.gql(REFRESH, { agentId, key: 'idem-task-1' }, member.key);
    expect(first.errors).toBeUndefined();
    const firstTask = first.data.refreshCoverage.task.id;
    expect((await h.gql(REFRESH, { agentId, key: 'idem-task-1' }, member.key)).data).toEqual({
      refreshCoverage: { task: { id: firstTask } },
    });
    // A key the OWNER minted for them acts in team X only: that task is not its to see.
    const delegated = (await mintAs(ownerInX.key, 'idem-task-member', ['WRITE'], teamX)).data
      .createApiKey.key;
    expect(
      (await h.gql('query($id: ID!) { task(id: $id) { id } }', { id: firstTask }, delegated)).data,
    ).toEqual({ task: null });
    const replay = await h.gql(REFRESH, { agentId, key: 'idem-task-1' }, delegated);
    expect(replay.data).toBeNull();
    expect(replay.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'IDEMPOTENCY_KEY_USED',
    });
    expect(await db().task.count({ where: { idempotencyKey: 'idem-task-1' } })).toBe(1);
    const fresh = await h.gql(REFRESH, { agentId, key: 'idem-task-2' }, delegated);
    expect(fresh.errors).toBeUndefined();
    expect(fresh.data.refreshCoverage.task.id).not.toBe(firstTask);
  });
});

describe('apiKeys and revokeApiKey', () => {
  it('show a key its own user’s keys, and administrators every key of their team', async () => {
    const owner = await mint(h, 'list-owner', ['ADMIN']);
    const teamId = await createTeam(h, owner.key, 'list-team');
    const member = await mint(h, 'list-member', ['WRITE']);
    await join(h, owner.key, teamId, member.key, 'MEMBER');
    const inTeam = (await mint(h, 'list-member', ['WRITE'], teamId, member.key)).key;
    const LIST = `query($t: ID) { apiKeys(teamId: $t) { id user team { slug } } }`;
    const forOwner = (await h.gql(LIST, { t: teamId }, owner.key)).data.apiKeys;
    expect(forOwner.map((k: { user: string }) => k.user)).toEqual(['list-member']);
    expect(forOwner[0].team).toEqual({ slug: 'list-team' });
    const forMember = (await h.gql(LIST, {}, inTeam)).data.apiKeys;
    expect(new Set(forMember.map((k: { user: string }) => k.user))).toEqual(
      new Set(['list-member']),
    );
    expect(forMember).toHaveLength(2);
    // The team's owner revokes the member's key of the team; the member no one else's.
    const ownersKeys = (await h.gql(LIST, {}, owner.key)).data.apiKeys.filter(
      (k: { user: string }) => k.user === 'list-owner',
    );
    const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
    expect(errorCodes(await h.gql(REVOKE, { id: ownersKeys[0].id }, inTeam))).toEqual([
      'NOT_FOUND',
    ]);
    const revoked = await h.gql(REVOKE, { id: forOwner[0].id }, owner.key);
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    expect((await h.gql('{ viewer { user } }', {}, inTeam)).status).toBe(401);
  });
});
