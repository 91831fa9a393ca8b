// A team's webhook endpoints: registered, changed, rotated and deleted by those who
// administer the team (as its provider keys are), listed by its members. Another team's
// endpoint is NOT_FOUND, never FORBIDDEN (no existence oracle). The secret is returned once,
// when made, and stored sealed by the key vault.
import { randomUUID } from 'node:crypto';
import { db } from '../../platform/db.js';
import { BadInputError, conflict, notFound } from '../../platform/errors.js';
import type { Keyring } from '../../platform/vault.js';
import type { Caller } from '../auth/caller.js';
import { canRead, requireAdminister } from '../auth/permissions.js';
import { checkOutboundUrl } from '../../platform/outbound-url.js';
import { checkEventTypes } from './event-types.js';
import { newEndpointSecret, rotatedSecretColumns, sealEndpointSecret } from './secrets.js';

export interface EndpointDeps {
  keyring: Keyring;
  webhooks: { allowPrivateTargets: boolean };
}

export interface CreateEndpointInput {
  /** Unset: the key's team. */
  teamId?: string | null;
  url: string;
  eventTypes: readonly string[];
  description?: string | null;
}

export interface UpdateEndpointInput {
  url?: string | null;
  eventTypes?: readonly string[] | null;
  enabled?: boolean | null;
  description?: string | null;
}

const DESCRIPTION_MAX = 500;
/** A rotation's overlap at most: a week is enough to roll out a receiver's new secret. */
export const OVERLAP_MAX_SECONDS = 7 * 24 * 3600;

function checkDescription(description: string | null | undefined): string {
  const text = (description ?? '').trim();
  if (text.length > DESCRIPTION_MAX)
    throw new BadInputError(
      `description must be at most ${DESCRIPTION_MAX} characters`,
      { field: 'description' },
      'description',
    );
  return text;
}

/** An endpoint the caller reads (any member of its team), or NOT_FOUND. */
export async function readableEndpoint(id: string, caller: Caller) {
  const endpoint = await db().webhookEndpoint.findUnique({ where: { id } });
  if (!endpoint || !canRead(caller, endpoint.teamId)) throw notFound('WebhookEndpoint');
  return endpoint;
}

/** An endpoint the caller administers: NOT_FOUND outside its teams, FORBIDDEN to a member. */
async function administeredEndpoint(id: string, caller: Caller) {
  const endpoint = await readableEndpoint(id, caller);
  requireAdminister(caller, endpoint.teamId, 'WebhookEndpoint');
  return endpoint;
}

/** The endpoint a report or workflow names: one of `teamId`'s that the caller reads, else NOT_FOUND. */
export async function endpointOfTeam(id: string, teamId: string, caller: Caller): Promise<string> {
  const endpoint = await readableEndpoint(id, caller);
  if (endpoint.teamId !== teamId) throw notFound('WebhookEndpoint');
  return endpoint.id;
}

export async function createWebhookEndpoint(
  input: CreateEndpointInput,
  caller: Caller,
  deps: EndpointDeps,
) {
  const teamId = input.teamId ?? caller.teamId;
  requireAdminister(caller, teamId);
  const url = await checkOutboundUrl(input.url, deps.webhooks, 'url');
  const eventTypes = checkEventTypes(input.eventTypes);
  const description = checkDescription(input.description);
  const id = randomUUID();
  const secret = newEndpointSecret();
  const endpoint = await db().webhookEndpoint.create({
    data: {
      id,
      teamId,
      url,
      eventTypes,
      description,
      ...sealEndpointSecret(deps.keyring, teamId, id, secret),
    },
  });
  return { endpoint, secret };
}

/** An integration plugin's endpoint changes with its plugin (docs/plugins.md), not here. */
async function requireNotOwned(id: string): Promise<void> {
  const owner = await db().pluginInstallation.findUnique({
    where: { webhookEndpointId: id },
    select: { name: true },
  });
  if (owner)
    throw conflict(
      `This endpoint belongs to the plugin ${owner.name}: change it with updatePluginInstallation or uninstallPlugin`,
      { plugin: owner.name },
    );
}

export async function updateWebhookEndpoint(
  id: string,
  input: UpdateEndpointInput,
  caller: Caller,
  deps: EndpointDeps,
) {
  await administeredEndpoint(id, caller);
  await requireNotOwned(id);
  const data = {
    ...(input.url != null && { url: await checkOutboundUrl(input.url, deps.webhooks, 'url') }),
    ...(input.eventTypes != null && { eventTypes: checkEventTypes(input.eventTypes) }),
    ...(input.enabled != null && { enabled: input.enabled }),
    ...(input.description != null && { description: checkDescription(input.description) }),
  };
  return db().webhookEndpoint.update({ where: { id }, data });
}

/** Deletes the endpoint and its messages and deliveries; its id. */
export async function deleteWebhookEndpoint(id: string, caller: Caller): Promise<string> {
  await administeredEndpoint(id, caller);
  await requireNotOwned(id);
  await db().webhookEndpoint.delete({ where: { id } });
  return id;
}

/** A team's endpoints, newest first; another team's: NOT_FOUND. */
export async function teamWebhookEndpoints<Query extends object>(
  teamId: string,
  caller: Caller,
  /** The caller's selection (the schema's), spread into the query. */
  query: Query = {} as Query,
) {
  if (!canRead(caller, teamId)) throw notFound('Team');
  return db().webhookEndpoint.findMany({
    ...query,
    where: { teamId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
}

/**
 * A new secret, returned once; the replaced one keeps signing for `overlapSeconds` (0: stops
 * at once), so each message carries both signatures until then (Standard Webhooks allows
 * several in webhook-signature, and receivers accept any one that verifies).
 */
export async function rotateWebhookEndpointSecret(
  id: string,
  overlapSeconds: number,
  caller: Caller,
  deps: EndpointDeps,
): Promise<string> {
  if (
    !Number.isInteger(overlapSeconds) ||
    overlapSeconds < 0 ||
    overlapSeconds > OVERLAP_MAX_SECONDS
  )
    throw new BadInputError(
      `overlapSeconds must be an integer from 0 to ${OVERLAP_MAX_SECONDS}`,
      { field: 'overlapSeconds' },
      'overlapSeconds',
    );
  const endpoint = await administeredEndpoint(id, caller);
  const secret = newEndpointSecret();
  const until = overlapSeconds > 0 ? new Date(Date.now() + overlapSeconds * 1000) : null;
  await db().webhookEndpoint.update({
    where: { id },
    data: rotatedSecretColumns(deps.keyring, endpoint, secret, until),
  });
  return secret;
}
