// Deployments: a kind, a base URL, a model, a key from the vault and its prices,
// owned by a team (its administrators change it) or by the operator (teamId null: usable in
// every team's routes). LLM_* becomes the operator's deployment `env` at start-up.
import type { LlmProviderKind } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { displayTextProblem } from '../../platform/display-text.js';
import {
  BadInputError,
  conflict,
  ConflictError,
  mapPrismaError,
  notFound,
} from '../../platform/errors.js';
import type { PubSub } from '../../platform/pubsub.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds, requireAdminister } from '../auth/permissions.js';
import { checkBaseUrl } from './base-url.js';
import { announceLlmConfigChanged } from '../../llm/catalog.js';
import { MAX_USD } from '../../llm/limits.js';
import { ownerFor } from './provider-keys.js';

export interface DeploymentDeps {
  pubsub: PubSub;
  allowPrivateBaseUrls: boolean;
}

export interface LlmDeploymentInput {
  teamId?: string | null;
  name?: string | null;
  kind?: LlmProviderKind | null;
  baseUrl?: string | null;
  model?: string | null;
  providerKeyId?: string | null;
  inputUsdPerMTok?: number | null;
  outputUsdPerMTok?: number | null;
}

function checkPrice(value: number | null | undefined, argument: string): void {
  if (value === null || value === undefined) return;
  if (!Number.isFinite(value) || value < 0 || value > MAX_USD)
    throw new BadInputError(`${argument} must be a number from 0 to ${MAX_USD}`, {}, argument);
}

function checkText(
  value: string | null | undefined,
  argument: string,
  max: number,
): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text.length < 1 || text.length > max)
    throw new BadInputError(`${argument} must be 1-${max} characters`, {}, argument);
  return text;
}

/** A key of the same owner and kind, neither revoked nor expired; another owner's is NOT_FOUND. */
async function checkKey(keyId: string, owner: string | null, kind: LlmProviderKind) {
  const key = await db().providerKey.findUnique({ where: { id: keyId } });
  if (!key || key.teamId !== owner) throw notFound('ProviderKey');
  if (key.kind !== kind)
    throw new BadInputError(
      `providerKeyId: a ${key.kind} key for a ${kind} deployment`,
      {},
      'providerKeyId',
    );
  if (key.revokedAt)
    throw new BadInputError('providerKeyId: the key is revoked', {}, 'providerKeyId');
  // Never used past it, as a revoked key.
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now())
    throw new BadInputError('providerKeyId: the key has expired', {}, 'providerKeyId');
}

const PROVIDER_ONLY = [
  'model',
  'baseUrl',
  'providerKeyId',
  'inputUsdPerMTok',
  'outputUsdPerMTok',
] as const;

/** What a deployment made LOCAL keeps of a provider's settings: none (LOCAL costs 0). */
const LOCAL_DATA = {
  model: 'local',
  baseUrl: null,
  providerKeyId: null,
  inputUsdPerMTok: null,
  outputUsdPerMTok: null,
};

/** LOCAL is the built-in planner and writer: a model, URL, key or price would be ignored. */
function checkLocal(input: LlmDeploymentInput): void {
  for (const argument of PROVIDER_ONLY)
    if (input[argument] !== undefined && input[argument] !== null)
      throw new BadInputError(`${argument}: a LOCAL deployment takes none`, {}, argument);
}

/** The fields to write, checked; `current` for an update (what the input leaves as is). */
async function deploymentData(
  input: LlmDeploymentInput,
  owner: string | null,
  deps: DeploymentDeps,
  current?: { kind: LlmProviderKind; providerKeyId: string | null },
) {
  const kind = input.kind ?? current?.kind;
  if (!kind) throw new BadInputError('kind is required', {}, 'kind');
  const name = checkText(input.name, 'name', 100);
  // Others read it (routing snapshots, usage, a report's step): text that shows itself.
  const nameProblem = name === undefined ? undefined : displayTextProblem(name);
  if (nameProblem) throw new BadInputError(`name ${nameProblem}`, {}, 'name');
  if (kind === 'LOCAL') {
    checkLocal(input);
    return {
      kind,
      ...(name !== undefined ? { name } : {}),
      ...(current?.kind === 'LOCAL' ? {} : LOCAL_DATA),
    };
  }
  checkPrice(input.inputUsdPerMTok, 'inputUsdPerMTok');
  checkPrice(input.outputUsdPerMTok, 'outputUsdPerMTok');
  const model = checkText(input.model, 'model', 200);
  const baseUrl = input.baseUrl
    ? await checkBaseUrl(input.baseUrl, deps.allowPrivateBaseUrls)
    : input.baseUrl;
  const providerKeyId =
    input.providerKeyId === undefined ? current?.providerKeyId : input.providerKeyId;
  if (providerKeyId && (input.providerKeyId !== undefined || input.kind))
    await checkKey(providerKeyId, owner, kind);
  if (kind === 'ANTHROPIC' && !providerKeyId)
    throw new BadInputError(
      'providerKeyId is required for an ANTHROPIC deployment',
      {},
      'providerKeyId',
    );
  return {
    kind,
    ...(name !== undefined ? { name } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(providerKeyId !== undefined ? { providerKeyId } : {}),
    ...(input.inputUsdPerMTok !== undefined ? { inputUsdPerMTok: input.inputUsdPerMTok } : {}),
    ...(input.outputUsdPerMTok !== undefined ? { outputUsdPerMTok: input.outputUsdPerMTok } : {}),
  };
}

/** The write, with a name another live deployment of the owner has as CONFLICT naming `input.name`. */
async function namedWrite<T>(
  name: string | undefined,
  owner: string | null,
  write: () => Promise<T>,
) {
  try {
    return await write();
  } catch (error) {
    // The unique indexes on (teamId, name) and the operator's (name), deleted ones aside.
    if (name !== undefined && mapPrismaError(error) instanceof ConflictError)
      throw conflict(
        `a deployment named ${name} exists ${owner ? 'in this team' : "among the operator's"}`,
        { argument: 'input.name', reason: 'NAME_TAKEN' },
      );
    throw error;
  }
}

export async function createLlmDeployment(
  input: LlmDeploymentInput,
  caller: Caller,
  deps: DeploymentDeps,
) {
  const owner = ownerFor(caller, input.teamId);
  if (!input.name) throw new BadInputError('name is required', {}, 'name');
  if (!input.model && input.kind !== 'LOCAL')
    throw new BadInputError('model is required', {}, 'model');
  const data = await deploymentData(input, owner, deps);
  const row = await namedWrite(data.name, owner, () =>
    db().llmDeployment.create({
      data: { ...data, name: data.name!, model: data.model!, teamId: owner },
    }),
  );
  await announceLlmConfigChanged(deps.pubsub, owner);
  return row;
}

/** A deployment the caller may change (the env deployment is LLM_*'s), or NOT_FOUND. */
async function requireOwnDeployment(id: string, caller: Caller) {
  const row = await db().llmDeployment.findFirst({ where: { id, deletedAt: null } });
  if (!row) throw notFound('LlmDeployment');
  if (row.teamId === null) {
    if (!caller.isOperator) throw notFound('LlmDeployment');
  } else requireAdminister(caller, row.teamId, 'LlmDeployment');
  if (row.fromEnvironment)
    throw new BadInputError('the env deployment is set by the LLM_* variables', {}, 'id');
  return row;
}

/** An update's input sets a field (null clears those that may be empty; the others it leaves). */
const setsAnything = (input: LlmDeploymentInput) =>
  [input.kind, input.name, input.model].some((value) => value !== undefined && value !== null) ||
  [input.baseUrl, input.providerKeyId, input.inputUsdPerMTok, input.outputUsdPerMTok].some(
    (value) => value !== undefined,
  );

export async function updateLlmDeployment(
  id: string,
  input: LlmDeploymentInput,
  caller: Caller,
  deps: DeploymentDeps,
) {
  const row = await requireOwnDeployment(id, caller);
  if (input.teamId)
    throw new BadInputError('teamId: a deployment keeps the team it was made in', {}, 'teamId');
  if (!setsAnything(input))
    throw new BadInputError('input changes nothing: give a field to change', {}, 'input');
  const data = await deploymentData(input, row.teamId, deps, row);
  const updated = await namedWrite(data.name, row.teamId, () =>
    db().llmDeployment.update({ where: { id }, data }),
  );
  await announceLlmConfigChanged(deps.pubsub, row.teamId);
  return updated;
}

/** Marked deleted: its calls stay metered against it; routes naming it skip it. */
export async function deleteLlmDeployment(
  id: string,
  caller: Caller,
  deps: Pick<DeploymentDeps, 'pubsub'>,
) {
  const row = await requireOwnDeployment(id, caller);
  const deleted = await db().llmDeployment.update({
    where: { id },
    data: { deletedAt: new Date() },
  });
  await announceLlmConfigChanged(deps.pubsub, row.teamId);
  return deleted;
}

/** The caller's teams' deployments and the operator's (every team may route to those). */
export function listLlmDeployments(caller: Caller) {
  const teams = readableTeamIds(caller);
  return db().llmDeployment.findMany({
    where: {
      deletedAt: null,
      ...(teams ? { OR: [{ teamId: { in: teams } }, { teamId: null }] } : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: 1_000,
  });
}
