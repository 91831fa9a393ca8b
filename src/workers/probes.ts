// The HTTP side of a ROLE=worker process, on WORKER_HTTP_PORT: /health (the process is up),
// /ready (it is not stopping and reaches PostgreSQL) and /metrics (see metrics.ts). Plain
// node:http: there is no GraphQL here.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { databaseReachable } from '../platform/db.js';
import { logger } from '../platform/logger.js';

export interface WorkerProbes {
  port: number;
  close(): Promise<void>;
}

export async function serveWorkerProbes(options: {
  port: number;
  host: string;
  registry: Registry;
  stopping: () => boolean;
}): Promise<WorkerProbes> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json; charset=utf-8') =>
      res.writeHead(status, { 'content-type': type }).end(body);
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, JSON.stringify({ error: 'GET only' }));
    if (path === '/health') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/ready') {
      void databaseReachable().then((database) => {
        const ready = database && !options.stopping();
        send(
          ready ? 200 : 503,
          JSON.stringify({
            status: ready ? 'ready' : 'unavailable',
            stopping: options.stopping(),
            database,
          }),
        );
      });
      return;
    }
    if (path === '/metrics') {
      void options.registry.metrics().then(
        (text) => send(200, text, options.registry.contentType),
        (err: unknown) => {
          logger.error({ err }, 'metrics scrape failed');
          send(503, 'metrics unavailable\n', 'text/plain');
        },
      );
      return;
    }
    send(404, JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
