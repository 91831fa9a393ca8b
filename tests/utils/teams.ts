// Teams through the API, as a client does it: minting keys, making teams, inviting and
// accepting. Each helper fails the test on an unexpected error.
import { expect } from 'vitest';
import type { Harness } from './harness.js';

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
