// Values made storable before they join a batch PostgreSQL writes in one statement (a worker's
// turn, src/queue/write-changes.ts; the LLM metering buffer, src/llm/metering.ts). Such a batch
// is retried whole when it fails, so one value PostgreSQL refuses failed it and every retry: no
// end of that worker, or no metered call of that process, was recorded again. PostgreSQL's text
// and jsonb hold no NUL character and no lone UTF-16 surrogate (JSON.stringify writes one as a
// `\udXXX` escape, which jsonb rejects); a result must be JSON; an int column takes a whole
// number within 32 bits; a percent must be a whole number.

/** String.prototype's well-formedness methods (Node 20; our TypeScript lib predates them). */
type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

/** What in `text` PostgreSQL's text cannot store, if anything: a NUL, or a lone surrogate. */
export function unstorableIn(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character';
  if (!(text as WellFormed).isWellFormed()) return 'a lone surrogate (not valid Unicode)';
  return undefined;
}

const suspect = (text: string) => unstorableIn(text) !== undefined;
/** In JSON text, an escaped NUL or surrogate (its backslash not itself escaped). */
const ESCAPED_SUSPECT = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f])/i;

/** `text` with each NUL and lone surrogate replaced by U+FFFD (itself when it has none). */
export function writableText(text: string): string {
  if (!suspect(text)) return text;
  return (text.replaceAll('\u0000', '\uFFFD') as WellFormed).toWellFormed();
}

/** JSON.stringify's replacer: strings and object keys made writable. */
function writableJsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return writableText(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.some(suspect))
      return Object.fromEntries(
        Object.entries(value).map(([key, each]) => [writableText(key), each]),
      );
  }
  return value;
}

/** No result (most tasks): one answer for all, nothing allocated a task. */
const NULL_RESULT = Object.freeze({ value: null });

/**
 * A handler's result as it will be stored: itself when JSON holds it as it is, a copy with
 * its text made writable when it held a NUL or a lone surrogate; `error` when it is no JSON at
 * all (a BigInt, a cycle, a toJSON that throws).
 */
export function writableResult(value: unknown): { value: unknown } | { error: string } {
  if (value === null || value === undefined) return NULL_RESULT;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    return { error: error instanceof Error ? error.message : 'not serializable' };
  }
  // A function or a symbol: JSON has no value for it, stored as null as before.
  if (json === undefined) return NULL_RESULT;
  if (!ESCAPED_SUSPECT.test(json)) return { value };
  return { value: JSON.parse(JSON.stringify(value, writableJsonValue)) as unknown };
}

/** A whole number from 0 to `max` (not a number: 0). */
function wholeUpTo(value: number, max: number): number {
  const whole = Math.round(value);
  return Number.isNaN(whole) ? 0 : Math.max(0, Math.min(max, whole));
}

/** A progress report's percent as stored: a whole number from 0 to 99 (not a number: 0). */
export const progressPercent = (percent: number) => wholeUpTo(percent, 99);

/** A count for an int column: a whole number from 0 to 2^31 - 1 (not a number: 0). */
export const storableCount = (value: number) => wholeUpTo(value, 2_147_483_647);

/** A float8 column's value: itself when finite, else 0. */
export function storableNumber(value: number): number {
  return Number.isFinite(value) ? value : 0;
}
