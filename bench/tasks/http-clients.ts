// HTTP load for the enqueue benchmark, in its own process so the API process only serves:
// CLIENTS concurrent clients POST BODY to URL, each on its own keep-alive connection.
// MODE=closed: each client sends its next request as soon as the last one is answered
// (saturation: latency grows with the queue). MODE=paced: each client sends one request
// every INTERVAL_MS (RATE = CLIENTS x 1000 / INTERVAL_MS per second), the load of clients
// with think time. Before measuring, every client sends WARMUP requests on its connection
// (not recorded): this process is new for each load, and its first requests would time its
// own JIT and TCP handshakes, not the server. Prints one JSON line:
// {"latencies":[...],"starts":[...],"seconds":n}.
import { Agent, request } from 'node:http';

const url = new URL(process.env.URL!);
const body = process.env.BODY!;
const key = process.env.KEY!;
const clients = Number(process.env.CLIENTS ?? 50);
const total = Number(process.env.REQUESTS ?? 3_000);
const mode = process.env.MODE ?? 'closed';
const intervalMs = Number(process.env.INTERVAL_MS ?? 100);
const warmup = Number(process.env.WARMUP ?? 5);
const agent = new Agent({ keepAlive: true, maxSockets: clients });

function post(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const elapsed = performance.now() - started;
          if (res.statusCode !== 200 || (JSON.parse(text) as { errors?: unknown }).errors)
            reject(new Error(`HTTP ${res.statusCode}: ${text}`));
          else resolve(elapsed);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

await Promise.all(
  Array.from({ length: clients }, async () => {
    for (let i = 0; i < warmup; i++) await post();
  }),
);
process.stdout.write('measuring\n');

const latencies: number[] = [];
const starts: number[] = [];
let sent = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async (_, client) => {
    // Paced clients start spread over one interval, not all at once.
    let due = performance.now() + (mode === 'paced' ? (client * intervalMs) / clients : 0);
    while (sent < total) {
      sent++;
      if (mode === 'paced') {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        due += intervalMs;
      }
      const startedAt = performance.now() - started;
      latencies.push(await post());
      starts.push(startedAt);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({ latencies, starts, seconds })}\n`, () => process.exit(0));
