// Entry for the task benchmarks while bench/index.ts is wired: `tsx bench/tasks/run.ts queue|enqueue|fanout`.
const which = process.argv[2] ?? 'queue';
if (which === 'queue') await (await import('./queue.js')).benchQueue();
if (which === 'enqueue') await (await import('./enqueue.js')).benchEnqueue();
if (which === 'fanout') await (await import('./fanout.js')).benchFanout();
process.exit(0);
