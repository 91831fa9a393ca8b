// The benchmark's webhook receiver: a local HTTP server answering 200 after `delayMs`, noting
// when each message (by webhook-id) was answered and how often it came; it can go down (the
// port closed: connections refused) and come back on the same port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchReceiver {
  url: string;
  /** webhook-id → when it was first answered (performance.now()). */
  answeredAt: Map<string, number>;
  /** webhook-id → how many times it arrived. */
  arrivals: Map<string, number>;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function benchReceiver(delayMs: number): Promise<BenchReceiver> {
  const answeredAt = new Map<string, number>();
  const arrivals = new Map<string, number>();
  const make = () =>
    createServer((req, res) => {
      const id = String(req.headers['webhook-id']);
      req.resume();
      req.on('end', () => {
        arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
        setTimeout(() => {
          res.end();
          if (!answeredAt.has(id)) answeredAt.set(id, performance.now());
        }, delayMs);
      });
    });
  const listen = (server: Server, port: number) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  let server = make();
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    answeredAt,
    arrivals,
    down: close,
    async up() {
      server = make();
      await listen(server, port);
    },
    close,
  };
}
