// How V8's heap is sized for the service's processes. How far the old generation grows past
// the live heap before the next full (mark-compact) collection: at 400 % full collections,
// which stall the event loop, stay rare, for a larger heap between them (the measurements:
// bench/README.md). Set once at start; V8 reads it at every collection. And a worker's young
// generation: its size (Node flags) and its pages touched before its first claim.
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
 * with 64 a drain ran 20–25 % more tasks a second (bench/README.md, "Queue"). Fixed at that
 * size (the minimum too): V8 otherwise starts small and doubles it under load, and each
 * growth maps new pages whose first touch stalls a scavenge (below).
 */
export const WORKER_NODE_ARGS: readonly string[] = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=64',
];

const newSpace = () =>
  v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');

/**
 * Touches the young generation's pages once, at start, as the JVM's `-XX:+AlwaysPreTouch`
 * does for its heap: short-lived garbage until two scavenges have run has written every page
 * of both semi-spaces. A page's first touch is a page fault, and on a KVM host where one cost
 * 12–17 µs (64 MB in 190–270 ms) the first scavenges under load paid them, stalling the event
 * loop 40–140 ms in the middle of the work (bench/README.md, "Queue"). Costs that once, before
 * the first claim; a no-op beyond two small scavenges when the young generation is small.
 */
export function preTouchYoungGeneration(): void {
  const capacity = newSpace()?.space_size ?? 0;
  // Objects of a dozen bytes or more: four times the capacity's worth is a bound, not the aim.
  const limit = (4 * capacity) / 12;
  const recent: unknown[] = new Array(1_024);
  let scavenges = 0;
  let used = newSpace()?.space_used_size ?? 0;
  for (let i = 0; scavenges < 2 && i < limit; i++) {
    recent[i & 1_023] = { i };
    if ((i & 0xffff) !== 0) continue;
    const now = newSpace()?.space_used_size ?? 0;
    if (now < used) scavenges++;
    used = now;
  }
}
