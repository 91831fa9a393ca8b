// `npm run bench -- h2-floor`: would HTTP/2 bring Apollo's multipart fan-out under 20 ms? A
// bare h2c server (no GraphQL, no event hub) holds 10,000 multipart streams, 100 per
// connection (as the graphql-sse and graphql-ws rounds multiplex theirs), and writes each
// tick's part to every stream in one loop; a subscriber process reads them. Printed: the
// write loop's own time (JavaScript only: Http2Stream.write per stream) and publish→receive.
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { DELIMITER, PART_HEAD } from '../../src/http/multipart/handler.js';
import { formatSummary, heading, line, summarize } from '../stats.js';
import { spawnBenchScript } from './processes.js';

const SUBSCRIPTIONS = Number(process.env.BENCH_H2_SUBSCRIPTIONS ?? 10_000);
const TICKS = Number(process.env.BENCH_FANOUT_TICKS ?? 100);

const part = (sequence: number) =>
  `${PART_HEAD}${JSON.stringify({ payload: { data: { taskProgress: { sequence, status: 'RUNNING', publishedAt: Date.now() } } } })}${DELIMITER}`;

export async function benchH2Floor(): Promise<void> {
  heading(
    `multipart over HTTP/2 (h2c), bare server: ${SUBSCRIPTIONS} streams, 100 per connection, ${TICKS} events`,
  );
  const streams: ServerHttp2Stream[] = [];
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1_000 } });
  server.on('stream', (stream) => {
    stream.respond({
      ':status': 200,
      'content-type': 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    });
    stream.write(`${DELIMITER}${part(0)}`);
    streams.push(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients = spawnBenchScript('bench/tasks/h2-floor-client.ts', {
    URL: url,
    SUBSCRIPTIONS: String(SUBSCRIPTIONS),
    TICKS: String(TICKS),
  });
  try {
    await clients.waitFor(/subscribed/);
    const loops: number[] = [];
    for (let sequence = 1; sequence <= TICKS; sequence++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const text = part(sequence);
      const started = performance.now();
      for (const stream of streams) stream.write(text);
      loops.push(performance.now() - started);
    }
    for (const stream of streams) stream.end('--\r\n');
    const received = JSON.parse(await clients.waitFor(/^\{"received".*\}\n/m)) as {
      received: number;
      expected: number;
      p50: number;
      p99: number;
      max: number;
    };
    line('write loop per event (server JS only)', formatSummary(summarize(loops)));
    line(
      'publish->receive',
      `p50=${received.p50} ms p99=${received.p99} ms max=${received.max} ms (${received.received} of ${received.expected} parts)`,
    );
    line(
      'target (fanout): p99 < 20 ms',
      received.p99 < 20 ? 'MET' : 'MISSED, before any GraphQL work',
    );
  } finally {
    await clients.stop();
    for (const stream of streams) stream.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
