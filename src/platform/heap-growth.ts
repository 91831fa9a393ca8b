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
