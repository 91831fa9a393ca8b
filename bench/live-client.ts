// The live-query benchmark's clients, in their own process: CLIENTS streams of one live query
// (QUERY), graphql-sse's distinct-connection mode on bare sockets (openHttpStream), spread over
// the API processes of URLS in turn, all with KEY (one visibility). A read is searched for the
// markers as bytes, never parsed: one process standing in for a thousand clients must not queue
// their arrivals behind each other's JSON. Prints "subscribed" once every stream has its first
// result, then, each time every stream has a result holding one of the ROUNDS markers
// (`<PREFIX>-<round>`, the names the driver gives an agent), one JSON line: `{ marker, times }`,
// each stream's arrival (epoch ms).
import { openHttpStream } from './tasks/raw-stream.js';

const urls = process.env.URLS!.split(',');
const key = process.env.KEY!;
const query = process.env.QUERY!;
const clients = Number(process.env.CLIENTS);
/** Streams opened at once: more would queue in the servers' listen backlog. */
const WAVE = 100;
/** Kept of the previous read: a marker split between two reads is still found. */
const OVERLAP = 64;
const NEXT = Buffer.from('event: next');
const ERRORS = Buffer.from('"errors"');

interface Pending {
  marker: string;
  bytes: Buffer;
  /** Each stream's first result with it. */
  times: Map<number, number>;
}

let pending: Pending[] = Array.from({ length: Number(process.env.ROUNDS) }, (_, i) => {
  const marker = `${process.env.PREFIX}-${i + 1}`;
  return { marker, bytes: Buffer.from(`"${marker}"`), times: new Map() };
});
const firstSeen = new Set<number>();

function onRead(stream: number, read: Buffer, receivedAt: number): void {
  if (read.includes(ERRORS)) {
    console.error(`live query failed: ${read.toString()}`);
    process.exit(2);
  }
  if (read.includes(NEXT)) firstSeen.add(stream);
  for (const round of pending) {
    if (round.times.has(stream) || !read.includes(round.bytes)) continue;
    round.times.set(stream, receivedAt);
    if (round.times.size === clients) {
      console.log(JSON.stringify({ marker: round.marker, times: [...round.times.values()] }));
      pending = pending.filter((p) => p !== round);
    }
  }
}

function open(stream: number) {
  const url = new URL(`${urls[stream % urls.length]}/graphql/stream`);
  let tail = Buffer.alloc(0);
  return openHttpStream(
    url,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'text/event-stream',
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ query }),
    },
    (bytes, receivedAt) => {
      const read = tail.length ? Buffer.concat([tail, bytes]) : bytes;
      onRead(stream, read, receivedAt);
      tail = Buffer.from(read.subarray(Math.max(0, read.length - OVERLAP)));
    },
  );
}

const streams: Array<{ destroy(): void }> = [];
for (let first = 0; first < clients; first += WAVE) {
  const wave = Array.from({ length: Math.min(WAVE, clients - first) }, (_, i) => first + i);
  streams.push(...(await Promise.all(wave.map(open))));
}
const waitForFirst = setInterval(() => {
  if (firstSeen.size < clients) return;
  clearInterval(waitForFirst);
  console.log('subscribed');
}, 10);
process.on('SIGTERM', () => {
  for (const stream of streams) stream.destroy();
  process.exit(0);
});
