// A BullMQ worker in its own process, as the queue benchmark's peer: a no-op processor at the
// given concurrency on the same Redis. Prints "ready", then, each time EXPECT more jobs completed,
// a JSON line with their first start and last completion (epoch ms) and each one's add→start (ms).
import { Worker } from 'bullmq';

const queueName = process.env.QUEUE!;
const expected = Number(process.env.EXPECT);
const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
let first: number | undefined;
let done = 0;
const waits: number[] = [];
const worker = new Worker(
  queueName,
  async (job) => {
    const now = Date.now();
    first ??= now;
    waits.push(now - job.timestamp);
    return null;
  },
  { connection, concurrency: Number(process.env.CONCURRENCY ?? 50), autorun: true },
);
worker.on('completed', () => {
  if (++done < expected) return;
  console.log(JSON.stringify({ first, last: Date.now(), done, waits: waits.splice(0) }));
  first = undefined;
  done = 0;
});
await worker.waitUntilReady();
console.log('ready');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
