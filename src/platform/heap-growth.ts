// How far V8 lets the old generation grow past the live heap before the next full
// (mark-compact) collection: at 400 % full collections, which stall the event loop, stay
// rare, for a larger heap between them (the measurements: bench/README.md). Set once at
// start; V8 reads it at every collection.
import v8 from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 400;

/** 0 leaves V8's own choice. */
export function setHeapGrowingPercent(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * What a worker process (`npm run worker`, package.json) gives Node at start, where V8 reads
 * it (setFlagsFromString is too late for the young generation's size): semi-spaces of 64 MB,
 * not 16. A claimed batch waits in the local queue through scavenges and was promoted at 16 MB:
 * with 64 a drain ran 20–25 % more tasks a second (bench/README.md, "Queue").
 */
export const WORKER_NODE_ARGS: readonly string[] = ['--max-semi-space-size=64'];
