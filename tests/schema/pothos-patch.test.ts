// patches/@pothos+core+4.15.1.patch (applied by patch-package on install): Pothos's
// per-request caches live on the context object instead of in long-lived WeakMaps, whose
// values V8's young-generation collector keeps until a full collection (README, "Fewer full
// garbage collections").
import { createContextCache } from '@pothos/core';
import { describe, expect, it } from 'vitest';

describe('the patched Pothos context cache', () => {
  it('keeps an entry on its context, once per context', () => {
    let created = 0;
    const cache = createContextCache(() => ({ created: ++created }));
    const context = {};
    expect(cache(context)).toBe(cache(context));
    expect(created).toBe(1);
    // The entry is a property of the context (not enumerable: JSON and spreads ignore it).
    expect(Object.getOwnPropertySymbols(context)).toHaveLength(1);
    expect(Object.keys(context)).toEqual([]);
    expect(cache({})).not.toBe(cache(context));
  });

  it('still caches for a context that cannot take a property, and forgets on delete', () => {
    const cache = createContextCache(() => ({}));
    const frozen = Object.freeze({});
    expect(cache(frozen)).toBe(cache(frozen));
    const context = {};
    const first = cache(context);
    cache.delete(context);
    expect(cache(context)).not.toBe(first);
  });
});
