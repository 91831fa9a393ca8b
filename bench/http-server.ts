// The API app on a real HTTP server, on a free loopback port, for the benchmarks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../src/http/app.js';

export interface BenchHttpServer {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** Drops open connections (event streams too) and stops listening. */
  close(): Promise<void>;
}

export async function listenBenchApp(app: App): Promise<BenchHttpServer> {
  const server = createServer(app.requestListener);
  app.attachWebSockets(server);
  server.maxConnections = 20_000; // the fan-out bench opens thousands of streams
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
