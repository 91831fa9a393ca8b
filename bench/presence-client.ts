// The presence benchmark's subscribers, in their own process: one `presence` subscription per
// key (each key another user), over graphql-sse distinct-connection streams (one POST each, on
// a bare socket: openPresenceStream), spread over the API processes of URLS in turn. TOPICS gives each key's topic.
// Prints "subscribed" once every subscription has seen all the others of its topic, then, per
// topic, one JSON line each time every subscription has seen NEWCOMER join (or leave) again:
// `{ topic, kind, round, times }` with each subscription's arrival time (epoch ms).
import { openPresenceStream, type PresencePayload } from './presence-stream.js';

const urls = process.env.URLS!.split(',');
const keys = JSON.parse(process.env.KEYS!) as string[];
const topics = JSON.parse(process.env.TOPICS!) as string[];
const newcomer = process.env.NEWCOMER!;
// joined and left only: a client that keeps its own list needs no more (the first event has
// every member as joined), and members would be 1,000 entries in every event.
const QUERY = `subscription($id: ID!) {
  presence(channel: TOPIC, id: $id) { joined left } }`;
/** Streams opened at once: more would queue in the servers' listen backlog. */
const WAVE = 100;

interface Subscriber {
  topic: string;
  members: Set<string>;
  seen: Record<'join' | 'leave', number[]>;
}

const subscribers: Subscriber[] = topics.map((topic) => ({
  topic,
  members: new Set(),
  seen: { join: [], leave: [] },
}));
const byTopic = new Map<string, Subscriber[]>();
for (const s of subscribers) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s]);
let subscribed = false;

function reportRound(topic: string, kind: 'join' | 'leave', round: number): void {
  const group = byTopic.get(topic)!;
  if (group.some((s) => s.seen[kind].length < round)) return;
  const times = group.map((s) => s.seen[kind][round - 1]!);
  console.log(JSON.stringify({ topic, kind, round, times }));
}

function onEvent(s: Subscriber, { data, errors }: PresencePayload, receivedAt: number): void {
  if (errors || !data) {
    console.error(`subscription failed: ${JSON.stringify(errors)}`);
    process.exit(2);
  }
  for (const name of data.presence.joined) {
    s.members.add(name);
    if (name === newcomer && subscribed) {
      s.seen.join.push(receivedAt);
      reportRound(s.topic, 'join', s.seen.join.length);
    }
  }
  for (const name of data.presence.left) {
    s.members.delete(name);
    if (name === newcomer && subscribed) {
      s.seen.leave.push(receivedAt);
      reportRound(s.topic, 'leave', s.seen.leave.length);
    }
  }
  if (!subscribed && subscribers.every((x) => x.members.size === byTopic.get(x.topic)!.length)) {
    subscribed = true;
    console.log('subscribed');
  }
}

const streams: Array<{ destroy(): void }> = [];
for (let first = 0; first < keys.length; first += WAVE) {
  await Promise.all(
    keys.slice(first, first + WAVE).map(async (key, offset) => {
      const i = first + offset;
      const s = subscribers[i]!;
      const url = `${urls[i % urls.length]}/graphql/stream`;
      streams.push(
        await openPresenceStream(url, key, QUERY, s.topic, (p, at) => onEvent(s, p, at)),
      );
    }),
  );
}
process.on('SIGTERM', () => {
  for (const stream of streams) stream.destroy();
  process.exit(0);
});
