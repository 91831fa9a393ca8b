// How far V8 lets the old generation grow past the live heap before the next full
// (mark-compact) collection. V8's own limit came out at 1.1-2 times the live heap here.
// Requests promoted 10-15 KB each to the old generation, so under 250 enqueues/s a full
// collection ran every 4-9 s and stalled the event loop 15-40 ms each time: the slow
// clusters of the enqueue benchmark. Most of that came from Pothos's context cache (patched:
// patches/@pothos+core+4.15.1.patch); an enqueue still promotes about 9 KB. At 400 % (a
// factor of 5) full collections stay rare, for a larger heap between them. Set once at
// start; V8 reads it at every collection.
import v8 from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 400;

/** 0 leaves V8's own choice. */
export function setHeapGrowingPercent(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
