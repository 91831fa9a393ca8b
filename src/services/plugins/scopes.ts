// The scopes a manifest asks for and an administrator grants (docs/plugins.md#scopes): what a
// plugin may receive (`events:<type>`), read (`data:topic.markdown`), reach
// (`network:<host>[:<port>]`), use (`secrets:<NAME>`) and spend (`llm:write`).
import { WEBHOOK_EVENT_TYPES } from '../webhooks/event-types.js';

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
// A DNS name or an IPv4 address, lower case; IPv6 literals in brackets.
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])$/;
const EVENT_TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

export type ParsedScope =
  | { kind: 'events'; eventType: string }
  | { kind: 'data'; field: 'topic.markdown' }
  | { kind: 'network'; host: string; port: number | null }
  | { kind: 'secrets'; name: string }
  | { kind: 'llm'; service: 'write' };

/** The scope, or why it is not one. */
export function parseScope(scope: unknown): ParsedScope | { problem: string } {
  if (typeof scope !== 'string') return { problem: 'must be a string' };
  const colon = scope.indexOf(':');
  const family = colon < 0 ? scope : scope.slice(0, colon);
  const rest = colon < 0 ? '' : scope.slice(colon + 1);
  switch (family) {
    case 'events':
      return EVENT_TYPES.has(rest)
        ? { kind: 'events', eventType: rest }
        : { problem: `unknown event type "${rest}" (known: ${WEBHOOK_EVENT_TYPES.join(', ')})` };
    case 'data':
      return rest === 'topic.markdown'
        ? { kind: 'data', field: 'topic.markdown' }
        : { problem: 'the only data scope is data:topic.markdown' };
    case 'network': {
      const match = /^(.+?)(?::(\d{1,5}))?$/.exec(rest);
      const host = match?.[1] ?? '';
      const port = match?.[2] === undefined ? null : Number(match[2]);
      if (!HOST.test(host)) return { problem: `"${rest}" is not a host name (lower case)` };
      if (port !== null && (port < 1 || port > 65535)) return { problem: 'port out of range' };
      return { kind: 'network', host, port };
    }
    case 'secrets':
      return SECRET_NAME.test(rest)
        ? { kind: 'secrets', name: rest }
        : { problem: 'a secret name is upper case letters, digits and _ (at most 64)' };
    case 'llm':
      return rest === 'write'
        ? { kind: 'llm', service: 'write' }
        : { problem: 'the only llm scope is llm:write' };
    default:
      return {
        problem:
          'must be events:<type>, data:topic.markdown, network:<host>, secrets:<NAME> or llm:write',
      };
  }
}

/** What a set of scopes allows, parsed once. */
export interface Grants {
  events: ReadonlySet<string>;
  topicMarkdown: boolean;
  hosts: ReadonlyArray<{ host: string; port: number | null }>;
  secrets: ReadonlySet<string>;
  llmWrite: boolean;
}

export function grantsOf(scopes: readonly string[]): Grants {
  const events = new Set<string>();
  const secrets = new Set<string>();
  const hosts: Array<{ host: string; port: number | null }> = [];
  let topicMarkdown = false;
  let llmWrite = false;
  for (const scope of scopes) {
    const parsed = parseScope(scope);
    if ('problem' in parsed) continue;
    if (parsed.kind === 'events') events.add(parsed.eventType);
    else if (parsed.kind === 'secrets') secrets.add(parsed.name);
    else if (parsed.kind === 'network') hosts.push({ host: parsed.host, port: parsed.port });
    else if (parsed.kind === 'data') topicMarkdown = true;
    else llmWrite = true;
  }
  return { events, topicMarkdown, hosts, secrets, llmWrite };
}

const defaultPort = (protocol: string) => (protocol === 'https:' ? 443 : 80);

/** The URL's host and port is one a `network:` scope names (no port: the scheme's default). */
export function hostGranted(url: URL, grants: Pick<Grants, 'hosts'>): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port ? Number(url.port) : defaultPort(url.protocol);
  return grants.hosts.some(
    (grant) => grant.host === host && (grant.port ?? defaultPort(url.protocol)) === port,
  );
}

/** `host` or `host:port` as a network scope names it. */
export const networkScopeOf = (url: URL) =>
  `network:${url.hostname.toLowerCase()}${url.port ? `:${url.port}` : ''}`;
