// The floor under multipart fan-out on this host: a bare node:http server (no GraphQL, no
// event hub, no yoga) holding the same number of multipart responses, read by the same
// subscriber process and client as the real round, writing each tick's part to every
// response in one loop. Multipart has one subscription per HTTP/1.1 response, so an event to
// N subscribers is N socket writes whatever the server does; this measures what those
// writes and their reads cost here, beside what the API adds.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIMITER, PART_HEAD } from '../../src/http/multipart/handler.js';
import { spawnBenchScript } from './processes.js';

function part(sequence: number, status: string): string {
  const payload = { data: { taskProgress: { sequence, status, at: new Date().toISOString() } } };
  return `${PART_HEAD}${JSON.stringify({ payload })}${DELIMITER}`;
}

/** publish→receive of every subscriber for `ticks` events, 300 ms apart (as the worker sends them). */
export async function multipartFloor(subscriptions: number, ticks: number): Promise<number[]> {
  const responses: ServerResponse[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, {
        'content-type': 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
      });
      response.write(`${DELIMITER}${part(0, 'PENDING')}`);
      responses.push(response);
    });
  });
  server.maxConnections = 20_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const clients = spawnBenchScript('bench/tasks/subscribers.ts', {
    URL: url,
    KEY: 'floor',
    TASK_ID: 'floor',
    SUBSCRIPTIONS: String(subscriptions),
    CLIENT: 'multipart',
  });
  try {
    await clients.waitFor(/subscribed/);
    const published = new Map<number, number>();
    for (let sequence = 1; sequence <= ticks; sequence++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const text = part(sequence, sequence === ticks ? 'COMPLETED' : 'RUNNING');
      published.set(sequence, Date.now());
      for (const response of responses) response.write(text);
    }
    for (const response of responses) response.end('--\r\n');
    const { arrivals } = JSON.parse(await clients.waitFor(/^\{"latencies".*\}\n/m)) as {
      arrivals: Record<string, number[]>;
    };
    return Object.entries(arrivals).flatMap(([sequence, times]) =>
      times.map((at) => at - published.get(Number(sequence))!),
    );
  } finally {
    await clients.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
