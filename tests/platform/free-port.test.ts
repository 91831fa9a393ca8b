// The ports the tests' own servers are started on (src/platform/free-port.ts): free, and out
// of the kernel's ephemeral range, where no client connection is given one as its local port
// (a server stopped and started again on its port finds it still free).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralRangeStart, freePort, freePorts } from '../../src/platform/free-port.js';

const listen = (port: number) =>
  new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('freePort', () => {
  it('picks a port below the ephemeral range that a server can listen on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(ephemeralRangeStart());
    const server = await listen(port);
    await new Promise((resolve) => server.close(resolve));
  });

  it('picks different ports for processes started together, all below the range', async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeLessThan(ephemeralRangeStart());
  });
});
