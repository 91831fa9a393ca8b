// What a worker records of a handler's output, made storable (src/platform/storable.ts): only
// what PostgreSQL refuses changes.
import { describe, expect, it } from 'vitest';
import { progressPercent, writableResult, writableText } from '../../src/platform/storable.js';

describe('writable output', () => {
  it('replaces NULs and lone surrogates, and keeps whole surrogate pairs and the rest', () => {
    expect(writableText('plain 한국어 😀')).toBe('plain 한국어 😀');
    expect(writableText('a\u0000b')).toBe('a\uFFFDb');
    expect(writableText('\uD800x\uDC00 and \uD83D\uDE00')).toBe('\uFFFDx\uFFFD and 😀');
    // Text that spells an escape is text, not an escape.
    expect(writableText('\\u0000')).toBe('\\u0000');
  });

  it('keeps a storable result as it is, cleans one with bad text, refuses one that is no JSON', () => {
    const result = { n: 1, list: ['x', '\\u0000 spelled'], nested: { emoji: '😀' } };
    expect(writableResult(result)).toEqual({ value: result });
    expect((writableResult(result) as { value: unknown }).value).toBe(result);
    expect(writableResult(undefined)).toEqual({ value: null });
    expect(writableResult({ s: 'a\u0000', ['k\uDBFF']: ['\uDC00'] })).toEqual({
      value: { s: 'a\uFFFD', ['k\uFFFD']: ['\uFFFD'] },
    });
    expect(writableResult({ big: 1n })).toHaveProperty('error');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(writableResult(cycle)).toHaveProperty('error');
  });

  it('takes a percent to a whole number from 0 to 99, and what is no number to 0', () => {
    expect(progressPercent(42.4)).toBe(42);
    expect(progressPercent(150)).toBe(99);
    expect(progressPercent(-3)).toBe(0);
    expect(progressPercent(Number.NaN)).toBe(0);
    expect(progressPercent(Number.POSITIVE_INFINITY)).toBe(99);
  });
});
