// The targets a report or workflow run names for its end: a raw URL (checked as a task's
// webhookUrl is) and an endpoint of the subject's team (another team's is NOT_FOUND).
import type { Caller } from '../auth/caller.js';
import { checkWebhookUrl, type WebhookSettings, type WebhookTargetInput } from './delivery.js';
import { endpointOfTeam } from './endpoints.js';

export async function checkWebhookTargets(
  input: WebhookTargetInput,
  teamId: string,
  caller: Caller,
  settings: Pick<WebhookSettings, 'allowPrivateTargets'>,
  /** The URL's place in the request, for refusals: a field of `input` unless said. */
  urlArgument = 'input.webhookUrl',
): Promise<{ webhookUrl: string | null; webhookEndpointId: string | null }> {
  return {
    webhookUrl: input.webhookUrl
      ? await checkWebhookUrl(input.webhookUrl, settings, urlArgument)
      : null,
    webhookEndpointId: input.webhookEndpointId
      ? await endpointOfTeam(input.webhookEndpointId, teamId, caller)
      : null,
  };
}
