// What the webhook test files share: an endpoint made through the API, and its operations.
import { expect } from 'vitest';
import type { Harness } from '../utils/harness.js';

export const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes enabled description } } }`;
export const ENDPOINT_DELIVERIES = `query($id: ID!) { webhookEndpoint(id: $id) {
  id deliveries(first: 20) { edges { node { id webhookId attempt status statusCode latencyMs url } } } } }`;

/** An endpoint of the team, made with its OWNER's key: its id and secret. */
export async function createEndpoint(
  h: Harness,
  key: string,
  /** Unset: the key's team. */
  teamId: string | undefined,
  url: string,
  eventTypes: string[],
): Promise<{ id: string; secret: string }> {
  const response = await h.gql(
    CREATE_ENDPOINT,
    { input: { teamId, url, eventTypes, description: 'test receiver' } },
    key,
  );
  expect(response.errors, 'creating an endpoint').toBeUndefined();
  const { endpoint, secret } = response.data.createWebhookEndpoint;
  return { id: endpoint.id, secret };
}
