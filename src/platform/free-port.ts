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

/**
 * `count` free ports, all different: for processes started together, each port taken before
 * any of them binds one (the kernel may hand a closed port out again at once).
 */
export async function freePorts(count: number): Promise<number[]> {
  const picked: number[] = [];
  while (picked.length < count) {
    const port = await freePort();
    if (!picked.includes(port)) picked.push(port);
  }
  return picked;
}
