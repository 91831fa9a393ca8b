import { createTokenBuckets } from '../src/platform/token-buckets/index.js';
import { Redis } from 'ioredis';
const HUGE = { perMinute: 100_000_000, burst: 100_000_000 };
const b = createTokenBuckets({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: 'scratch:' });
const reqs = [{ scope: 'key', id: 'k1', rate: HUGE }, { scope: 'team', id: 't1', rate: HUGE }];
await b.take(reqs, 1);
for (const conc of [1, 8]) {
  const N = 8000;
  let left = N;
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (left-- > 0) await b.take(reqs, 1); }));
  const dt = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
  console.log(`upstash conc=${conc}: ${(N / dt * 1000).toFixed(0)} takes/s, cpu ${( (cpu.user+cpu.system)/N).toFixed(1)} µs/take`);
}
// raw ioredis evalsha of a trivial script for comparison
const r = new Redis('redis://127.0.0.1:6379', { enableAutoPipelining: true });
const sha = await r.script('LOAD', 'return 1') as string;
for (const conc of [8]) {
  const N = 16000; let left = N;
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (left-- > 0) await r.evalsha(sha, 0); }));
  const dt = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
  console.log(`raw evalsha conc=${conc}: ${(N / dt * 1000).toFixed(0)} /s, cpu ${((cpu.user+cpu.system)/N).toFixed(1)} µs/cmd`);
}
await r.quit(); await b.close();
