// The live-query benchmark's clients, in their own process: CLIENTS streams of one live query
// (QUERY), graphql-sse's distinct-connection mode on bare sockets (presence-stream.ts's
// framing), spread over the API processes of URLS in turn, all with KEY (one visibility).
// Prints "subscribed" once every stream has its first result, then, each time every stream
// has a result whose text holds one of the ROUNDS markers (`<PREFIX>-<round>`, the names the
// driver gives an agent), one JSON line: `{ marker, times }`, each stream's arrival (epoch ms).
import { openPresenceStream } from './presence-stream.js';

const urls = process.env.URLS!.split(',');
const key = process.env.KEY!;
const query = process.env.QUERY!;
const clients = Number(process.env.CLIENTS);
/** Streams opened at once: more would queue in the servers' listen backlog. */
const WAVE = 100;

const firstSeen = new Set<number>();
/** Per marker: each stream's first result with it. */
const seen = new Map<string, Map<number, number>>();
let markers = Array.from(
  { length: Number(process.env.ROUNDS) },
  (_, i) => `${process.env.PREFIX}-${i + 1}`,
);
for (const marker of markers) seen.set(marker, new Map());

function onResult(stream: number, text: string, receivedAt: number): void {
  firstSeen.add(stream);
  for (const marker of markers) {
    if (!text.includes(`"${marker}"`)) continue;
    const times = seen.get(marker)!;
    if (times.has(stream)) continue;
    times.set(stream, receivedAt);
    if (times.size === clients) {
      console.log(JSON.stringify({ marker, times: [...times.values()] }));
      markers = markers.filter((m) => m !== marker);
    }
  }
}

const streams: Array<{ destroy(): void }> = [];
for (let first = 0; first < clients; first += WAVE) {
  await Promise.all(
    Array.from({ length: Math.min(WAVE, clients - first) }, async (_, offset) => {
      const i = first + offset;
      const url = `${urls[i % urls.length]}/graphql/stream`;
      streams.push(
        await openPresenceStream(url, key, query, '', (payload, at) => {
          if (payload.errors) {
            console.error(`live query failed: ${JSON.stringify(payload.errors)}`);
            process.exit(2);
          }
          onResult(i, JSON.stringify(payload.data), at);
        }),
      );
    }),
  );
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
