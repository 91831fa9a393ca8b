// Presence tests' world: a team with two members (and an outsider with a team of their own),
// objects of every presence kind in the team, and clients of every transport that collect
// presence events.
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import type { Harness } from '../utils/harness.js';
import { listen, sseClient } from '../utils/sse.js';
import { createTeam, join, mint } from '../utils/teams.js';
import { waitFor } from '../utils/wait.js';
import { rowId } from '../utils/ids.js';

export const PRESENCE = `subscription($channel: PresenceChannel!, $id: ID!) {
  presence(channel: $channel, id: $id) {
    members { user since lastSeenAt } joined left } }`;
export const PRESENCE_QUERY = `query($channel: PresenceChannel!, $id: ID!) {
  presence(channel: $channel, id: $id) { user since lastSeenAt } }`;

export interface PresenceEvent {
  members: Array<{ user: string; since: string; lastSeenAt: string }>;
  joined: string[];
  left: string[];
}

export interface PresenceWorld {
  /** Keys of the team's two members and of an outsider (another team's owner). */
  alice: string;
  bob: string;
  outsider: string;
  /** Global ids of one object of each kind in the team. */
  objects: Record<'TOPIC' | 'WORKFLOW' | 'AGENT' | 'TEMPLATE', string>;
}

/** Its objects are written as rows: presence needs them to exist, nothing more. */
export async function presenceWorld(h: Harness, slug: string): Promise<PresenceWorld> {
  const home = await mint(h, `${slug}-alice`, ['ADMIN']);
  const teamId = await createTeam(h, home.key, slug);
  const alice = await mint(h, `${slug}-alice`, ['WRITE'], teamId, home.key);
  const bobHome = await mint(h, `${slug}-bob`, ['WRITE']);
  await join(h, home.key, teamId, bobHome.key, 'VIEWER');
  const bob = await mint(h, `${slug}-bob`, ['READ'], teamId, bobHome.key);
  const outsiderHome = await mint(h, `${slug}-outsider`, ['ADMIN']);
  const outsiderTeam = await createTeam(h, outsiderHome.key, `${slug}-other`);
  const outsider = await mint(h, `${slug}-outsider`, ['WRITE'], outsiderTeam, outsiderHome.key);
  const team = rowId(teamId);
  const owner = (await db().user.findUniqueOrThrow({ where: { name: `${slug}-alice` } })).id;
  const row = { teamId: team, ownerId: owner };
  const taxonomy = await db().taxonomy.create({
    data: { teamId: team, version: `${slug}-1`, name: 'T' },
  });
  const topic = await db().topic.create({ data: { ...row, topic: 'Presence' } });
  const workflow = await db().workflow.create({ data: { ...row, goal: 'Look', planner: 'local' } });
  const agent = await db().agent.create({
    data: { ...row, name: 'Watched', taxonomyId: taxonomy.id, taxonomyVersion: `${slug}-1` },
  });
  const template = await db().template.create({
    data: { ...row, name: 'Watched', category: 'DOCS', content: 'x' },
  });
  return {
    alice: alice.key,
    bob: bob.key,
    outsider: outsider.key,
    objects: {
      TOPIC: toGlobalId('Topic', topic.id),
      WORKFLOW: toGlobalId('Workflow', workflow.id),
      AGENT: toGlobalId('Agent', agent.id),
      TEMPLATE: toGlobalId('Template', template.id),
    },
  };
}

export interface Watcher {
  events: PresenceEvent[];
  errors: unknown[];
  /** The server completed the stream (graphql-ws watchers). */
  completed: boolean;
  /** The latest event's member names. */
  names(): string[];
  /** Waits for an event that `matches`. */
  until(what: string, matches: (event: PresenceEvent) => boolean): Promise<PresenceEvent>;
  stop(): void;
}

function watcher(): Watcher & { push(result: unknown): void } {
  const events: PresenceEvent[] = [];
  const errors: unknown[] = [];
  const w = {
    events,
    errors,
    completed: false,
    stop: () => {},
    push(result: unknown) {
      const r = result as { data?: { presence: PresenceEvent } | null; errors?: unknown[] };
      if (r.errors) errors.push(...r.errors);
      if (r.data?.presence) events.push(r.data.presence);
    },
    names: () => (events.at(-1)?.members ?? []).map((m) => m.user).sort(),
    until: (what: string, matches: (event: PresenceEvent) => boolean) =>
      waitFor(async () => {
        if (errors.length) throw new Error(`${what}: ${JSON.stringify(errors)}`);
        return events.find(matches);
      }, what),
  };
  return w;
}

/** A presence stream over graphql-sse's own client (distinct connections). */
export function watchSse(h: Harness, url: string, key: string, channel: string, id: string) {
  const client = sseClient({ url: `${url}/graphql/stream`, key });
  h.onCleanup(() => client.dispose());
  const w = watcher();
  const { unsubscribe, done } = listen(client, PRESENCE, { channel, id }, (r) => w.push(r));
  done.catch((error: unknown) => w.errors.push(error));
  w.stop = () => {
    unsubscribe();
    client.dispose();
  };
  return w as Watcher;
}

/** A presence stream over graphql-ws's own client. */
export function watchWs(h: Harness, url: string, key: string, channel: string, id: string) {
  const client = createWsClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  h.onCleanup(() => client.dispose());
  const w = watcher();
  const unsubscribe = client.subscribe(
    { query: PRESENCE, variables: { channel, id } },
    {
      next: (r) => w.push(r),
      error: (error) => w.errors.push(error),
      complete: () => (w.completed = true),
    },
  );
  w.stop = () => {
    unsubscribe();
    void client.dispose();
  };
  return w as Watcher;
}

const MULTIPART =
  'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9';

/** A presence stream over Apollo's multipart HTTP subscriptions, read part by part. */
export function watchMultipart(h: Harness, url: string, key: string, channel: string, id: string) {
  const w = watcher();
  const abort = new AbortController();
  h.onCleanup(() => abort.abort());
  void (async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: MULTIPART,
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query: PRESENCE, variables: { channel, id } }),
      signal: abort.signal,
    });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const parts = text.split('\r\n--graphql');
      text = parts.pop()!;
      for (const part of parts) {
        const body = part.split('\r\n\r\n')[1];
        const json = body ? (JSON.parse(body) as { payload?: unknown }) : {};
        if (json.payload) w.push(json.payload);
      }
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) w.errors.push(error);
  });
  w.stop = () => abort.abort();
  return w as Watcher;
}

export const names = (users: readonly string[]) => [...users].sort();
