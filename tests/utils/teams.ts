// Teams through the API, as a client does it: minting keys, making teams, inviting and
// accepting. Each helper fails the test on an unexpected error.
import { expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import type { Harness } from './harness.js';
import { rowId } from './ids.js';

type Scope = 'READ' | 'WRITE' | 'ADMIN';

export const MINT = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { key user scopes apiKey { id } } }`;
const CREATE_TEAM = `mutation($input: CreateTeamInput!) { createTeam(input: $input) { id slug } }`;
const INVITE = `mutation($teamId: ID!, $role: TeamRole!, $days: Int) {
  inviteToTeam(teamId: $teamId, role: $role, expiresInDays: $days) { token invitation { id role } } }`;
const ACCEPT = `mutation($token: String!) { acceptTeamInvitation(token: $token) { id viewerRole } }`;

export interface MintedKey {
  key: string;
  id: string;
}

/** A key for `user` (by the operator unless `by` is given). */
export async function mint(
  h: Harness,
  user: string,
  scopes: Scope[],
  teamId?: string,
  by?: string,
): Promise<MintedKey> {
  const response = await h.gql(MINT, { input: { user, name: `${user}-key`, scopes, teamId } }, by);
  expect(response.errors, `minting for ${user}`).toBeUndefined();
  return { key: response.data.createApiKey.key, id: response.data.createApiKey.apiKey.id };
}

/** A new team made with `key` (its user becomes the OWNER); returns its id. */
export async function createTeam(h: Harness, key: string, slug: string): Promise<string> {
  const response = await h.gql(CREATE_TEAM, { input: { name: `Team ${slug}`, slug } }, key);
  expect(response.errors, `creating ${slug}`).toBeUndefined();
  return response.data.createTeam.id;
}

/** An invitation's token, made with `key`. */
export async function invite(
  h: Harness,
  key: string,
  teamId: string,
  role: 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER',
  days?: number,
): Promise<{ token: string; id: string }> {
  const response = await h.gql(INVITE, { teamId, role, days }, key);
  expect(response.errors, `inviting a ${role}`).toBeUndefined();
  return { token: response.data.inviteToTeam.token, id: response.data.inviteToTeam.invitation.id };
}

export const accept = (h: Harness, key: string, token: string) => h.gql(ACCEPT, { token }, key);

/** Makes the user of `memberKey` a member of the team with `role` (invited with `adminKey`). */
export async function join(
  h: Harness,
  adminKey: string,
  teamId: string,
  memberKey: string,
  role: 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER',
): Promise<void> {
  const { token } = await invite(h, adminKey, teamId, role);
  const accepted = await accept(h, memberKey, token);
  expect(accepted.errors, `joining as ${role}`).toBeUndefined();
}

export interface TeamWithMember {
  teamId: string;
  /** The team's row id (for enqueueing into it). */
  teamRowId: string;
  ownerUserId: string;
  /** The OWNER's ADMIN key of the team. */
  owner: string;
  /** The MEMBER's WRITE key of the team, and of their personal team. */
  member: string;
  memberHome: string;
  memberKeyId: string;
  user: string;
}

/** A team with an OWNER and a MEMBER, each with a key of the team (the member also one of home). */
export async function teamWithMember(h: Harness, slug: string): Promise<TeamWithMember> {
  const home = await mint(h, `${slug}-owner`, ['ADMIN']);
  const teamId = await createTeam(h, home.key, slug);
  const owner = await mint(h, `${slug}-owner`, ['ADMIN'], teamId, home.key);
  const memberHome = await mint(h, `${slug}-member`, ['WRITE']);
  await join(h, home.key, teamId, memberHome.key, 'MEMBER');
  const member = await mint(h, `${slug}-member`, ['WRITE'], teamId, memberHome.key);
  const ownerUser = await db().user.findUniqueOrThrow({ where: { name: `${slug}-owner` } });
  return {
    teamId,
    teamRowId: rowId(teamId),
    ownerUserId: ownerUser.id,
    owner: owner.key,
    member: member.key,
    memberHome: memberHome.key,
    memberKeyId: member.id,
    user: `${slug}-member`,
  };
}
