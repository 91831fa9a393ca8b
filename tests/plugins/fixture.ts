// What the plugin test files share: the documented example manifests (read from
// docs/examples/, so the docs' examples are the ones tested), a local HTTP stand-in for the
// services plugins call, and the operations.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { Harness } from '../utils/harness.js';

export const example = (name: 'slack-notifier' | 'weather-tool'): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../docs/examples/${name}.json`, import.meta.url), 'utf8'));

export const PLUGIN_FIELDS = `id name version kind enabled status grantedScopes scopes events
  consecutiveFailures secretNames config createdAt webhookEndpoint { id url eventTypes enabled }`;
export const VALIDATE = `query($m: JSON!) { validatePluginManifest(manifest: $m) { valid errors { path message } } }`;
export const INSTALL = `mutation($input: InstallPluginInput!) { installPlugin(input: $input) { ${PLUGIN_FIELDS} } }`;
export const UPDATE = `mutation($id: ID!, $input: UpdatePluginInstallationInput!) {
  updatePluginInstallation(id: $id, input: $input) { ${PLUGIN_FIELDS} } }`;
export const PLUGINS = `query($teamId: ID) { plugins(teamId: $teamId) { ${PLUGIN_FIELDS} } }`;
export const PLUGIN = `query($id: ID!) { plugin(id: $id) { ${PLUGIN_FIELDS} } }`;
export const UNINSTALL = `mutation($id: ID!) { uninstallPlugin(id: $id) }`;
export const TEST = `mutation($id: ID!, $type: String!) {
  testPlugin(id: $id, eventType: $type) { ok status bodyExcerpt latencyMs retryAfterSeconds error failure } }`;

export const RUN_TOOL = `mutation($id: ID!, $input: JSON!) {
  runPluginTool(id: $id, input: $input) { output status latencyMs retryAfterSeconds } }`;

export interface StandInRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StandIn {
  /** http://127.0.0.1:<port> */
  origin: string;
  received: StandInRequest[];
}

/**
 * A local stand-in for a plugin's service. The last path segment (or the `city` query
 * parameter) says how it answers: `ok` (200 "ok"), `400`, `404`, `429` (Retry-After: 7),
 * `429-far` (Retry-After: 99999999999, past GraphQL's Int), `503-far` (Retry-After: a date in 2099),
 * `slow` (after 3 s, past the tests' 2 s bound), `huge` (300 KB, over the 256 KB bound);
 * anything else 200 with a JSON echo of what it got.
 */
export async function standIn(h: Pick<Harness, 'onCleanup'>): Promise<StandIn> {
  const stand: StandIn = { origin: '', received: [] };
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://stand-in');
      stand.received.push({ method: req.method!, path: url.pathname, headers: req.headers, body });
      const how = url.searchParams.get('city') ?? url.pathname.split('/').at(-1);
      if (how === 'ok') return res.end('ok');
      if (how === '400') return res.writeHead(400).end('{"error":"invalid_payload"}');
      if (how === '404') return res.writeHead(404).end('no_service');
      if (how === '429') return res.writeHead(429, { 'retry-after': '7' }).end('rate_limited');
      if (how === '429-far')
        return res.writeHead(429, { 'retry-after': '99999999999' }).end('rate_limited');
      if (how === '503-far')
        return res.writeHead(503, { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' }).end('down');
      if (how === 'slow') {
        const timer = setTimeout(() => res.end('late'), 3_000);
        timers.add(timer);
        return;
      }
      if (how === 'huge') return res.end('x'.repeat(300 * 1024));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: how, temperatureC: 21, query: url.search }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.onCleanup(async () => {
    timers.forEach(clearTimeout);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  stand.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stand;
}

/** Installs with `key`; the installation (fails the test on an error). */
export async function install(h: Harness, key: string, input: Record<string, unknown>) {
  const response = await h.gql(INSTALL, { input }, key);
  expect(response.errors, 'installing a plugin').toBeUndefined();
  return response.data.installPlugin;
}

/** The Slack example, installed in the team with its secret pointing at `url`. */
export const slackInput = (teamId: string, url: string, channel = '#reports') => ({
  teamId,
  manifest: example('slack-notifier'),
  grantedScopes: example('slack-notifier').scopes,
  config: { channel },
  secrets: [{ name: 'SLACK_WEBHOOK_URL', value: url }],
});
