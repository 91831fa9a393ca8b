// A free TCP port on loopback, as the kernel hands one out (listen on 0, read it, close):
// for processes started on a port of their own (the embedded PostgreSQL, private clusters and
// Redis servers in tests and benchmarks).
import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
