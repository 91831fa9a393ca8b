// A free TCP port on loopback, for processes started on a port of their own (the embedded
// PostgreSQL, private clusters and Redis servers in tests and benchmarks). Picked below the
// kernel's ephemeral range (Linux: net.ipv4.ip_local_port_range, "the local port range that
// is used by TCP and UDP to choose the local port", docs.kernel.org/networking/ip-sysctl.html),
// where no outgoing connection is ever given its local port. A port the kernel hands out for
// `listen(0)` comes from that range: closed again, the next client connection may take it as
// its own, and a server stopped and started again on it (a chaos test's PostgreSQL, while
// clients retry by the hundred) found it taken.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/** The lowest port picked: below it sit the well-known and registered services' usual ports. */
const LOWEST = 10_000;
/** The start of the ephemeral range where /proc does not say (Linux's default; macOS's is higher). */
const DEFAULT_EPHEMERAL_LOW = 32_768;
/** Random picks tried before leaving the choice to the kernel. */
const PICKS = 20;

/** Read once: a topology fixture asks for a dozen ports at a time. */
let rangeStart: number | undefined;

/** The first port of the kernel's ephemeral range. */
export function ephemeralRangeStart(): number {
  return (rangeStart ??= readRangeStart());
}

function readRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return low && Number.isInteger(low) ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

/** Listens on `port` (0: the kernel's choice) and closes again: the port, or undefined when taken. */
function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

export async function freePort(): Promise<number> {
  const end = ephemeralRangeStart();
  if (end - LOWEST >= 1_000) {
    for (let pick = 0; pick < PICKS; pick++) {
      const port = await listenable(LOWEST + Math.floor(Math.random() * (end - LOWEST)));
      if (port !== undefined) return port;
    }
  }
  const port = await listenable(0);
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/**
 * `count` free ports, all different: for processes started together, each port taken before
 * any of them binds one.
 */
export async function freePorts(count: number): Promise<number[]> {
  const picked: number[] = [];
  while (picked.length < count) {
    const port = await freePort();
    if (!picked.includes(port)) picked.push(port);
  }
  return picked;
}
