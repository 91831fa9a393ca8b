// testPlugin: a made-up event of one of the plugin's granted types, rendered and signed as a
// delivery is, sent at once (not queued, not retried, not counted toward its failures), and
// what the receiver said: its status, the start of its answer and the latency.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { db } from '../../platform/db.js';
import type { Caller } from '../auth/caller.js';
import type { WebhookEventType } from '../webhooks/event-types.js';
import { signingSecrets } from '../webhooks/secrets.js';
import { sampleEventData } from './event-fields.js';
import { callPlugin, PluginCallError, type CallFailure } from './http-call.js';
import { refuse } from './install-checks.js';
import { administeredPlugin, type PluginDeps } from './installations.js';
import { integrationRequest } from './requests.js';
import { grantsOf } from './scopes.js';
import { PluginRefusal } from './target.js';

const EXCERPT_CHARACTERS = 1_000;

export interface PluginTestResult {
  ok: boolean;
  status: number | null;
  /** The start of the answer (at most 1,000 characters); null when none came. */
  bodyExcerpt: string | null;
  latencyMs: number;
  retryAfterSeconds: number | null;
  /** Why there is no answer: a refused target, a timeout, a reply over the bound, … */
  error: string | null;
  failure: CallFailure | null;
}

export async function testPlugin(
  id: string,
  eventType: string,
  caller: Caller,
  deps: PluginDeps,
): Promise<PluginTestResult> {
  const installation = await administeredPlugin(id, caller);
  if (installation.kind !== 'INTEGRATION')
    throw refuse(
      'id',
      'id',
      `a ${installation.kind} receives no events (runPluginTool runs a TOOL)`,
    );
  const grants = grantsOf(installation.grantedScopes);
  if (!grants.events.has(eventType))
    throw refuse(
      'eventType',
      'eventType',
      `not an event the plugin was granted (${[...grants.events].join(', ')})`,
    );
  const endpoint = installation.webhookEndpointId
    ? await db().webhookEndpoint.findUnique({ where: { id: installation.webhookEndpointId } })
    : null;
  const started = performance.now();
  const failed = (failure: CallFailure, error: string): PluginTestResult => ({
    ok: false,
    status: null,
    bodyExcerpt: null,
    latencyMs: Math.round(performance.now() - started),
    retryAfterSeconds: null,
    error,
    failure,
  });
  try {
    const request = await integrationRequest(
      installation,
      {
        type: eventType,
        timestamp: new Date().toISOString(),
        data: sampleEventData(eventType as WebhookEventType),
      },
      { keyring: deps.keyring, network: deps.webhooks },
    );
    const body = request.body ?? '';
    const webhookId = `test_${randomUUID()}`;
    const at = new Date();
    const signatures = endpoint
      ? signingSecrets(deps.keyring, endpoint).map((secret) =>
          new Webhook(secret).sign(webhookId, at, body),
        )
      : [];
    const reply = await callPlugin(
      {
        ...request,
        body,
        headers: {
          ...request.headers,
          'webhook-id': webhookId,
          'webhook-timestamp': Math.floor(at.getTime() / 1000).toString(),
          'webhook-signature': signatures.join(' '),
        },
      },
      deps.webhooks,
    );
    return {
      ok: reply.status >= 200 && reply.status < 300,
      status: reply.status,
      bodyExcerpt: reply.body.toString('utf8').slice(0, EXCERPT_CHARACTERS),
      latencyMs: reply.latencyMs,
      retryAfterSeconds: reply.retryAfterSeconds,
      error: null,
      failure: null,
    };
  } catch (error) {
    if (error instanceof PluginRefusal) return failed('REFUSED', `refused: ${error.message}`);
    if (error instanceof PluginCallError) return failed(error.reason, error.message);
    throw error;
  }
}
