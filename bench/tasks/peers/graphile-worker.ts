// A graphile-worker runner in its own process, as the queue benchmark's peer, in its batched
// mode: a local queue (LOCAL_QUEUE jobs fetched and locked at once) and batched completion.
// Prints "ready", the first start (epoch ms) once a job runs, and each job's add→start (ms)
// as a JSON line when SIGUSR2 asks for it.
import { run } from 'graphile-worker';

let first: number | undefined;
const waits: number[] = [];
const runner = await run({
  connectionString: process.env.DATABASE_URL!,
  concurrency: Number(process.env.CONCURRENCY ?? 24),
  noHandleSignals: true,
  pollInterval: 1_000,
  taskList: {
    noop: async (_payload, helpers) => {
      const now = Date.now();
      if (first === undefined) {
        first = now;
        console.log(`first ${first}`);
      }
      waits.push(now - helpers.job.created_at.getTime());
    },
  },
  preset: {
    worker: {
      localQueue: { size: Number(process.env.LOCAL_QUEUE ?? 500) },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  },
});
console.log('ready');
process.on('SIGUSR2', () => {
  console.log(JSON.stringify({ waits: waits.splice(0) }));
  first = undefined;
});
process.on('SIGTERM', () => {
  void runner.stop().then(() => process.exit(0));
});
