// timestamptz as node-postgres' pool hands it to raw statements (src/platform/db.ts), parsed
// by hand for the one form PostgreSQL writes with DateStyle ISO: `2026-11-26 09:47:01.123456+00`
// (fraction and the offset's minutes and seconds optional). node-postgres' own parser
// (postgres-date: three regular expressions and a split per value) was a tenth of a busy
// worker's CPU, which reads eleven timestamps per task; anything else (BC, infinity, a year past
// 9999) goes to it unchanged, so the values are the same either way (milliseconds truncated).
import pg from 'pg';

const defaultParser = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ);

const COLON = 58;
const digit = (text: string, at: number) => text.charCodeAt(at) - 48;
const two = (text: string, at: number) => digit(text, at) * 10 + digit(text, at + 1);

/** Whether text[from, to) are all ASCII digits. */
function digits(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const d = digit(text, i);
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/** The Date of PostgreSQL's ISO timestamptz text, or undefined when it is not that plain form. */
function parsePlain(text: string): Date | undefined {
  // YYYY-MM-DD HH:MM:SS is 19 characters; the offset (±HH) at least 3 more.
  if (text.length < 22 || text[4] !== '-' || text[7] !== '-' || text[10] !== ' ') return;
  if (text[13] !== ':' || text[16] !== ':') return;
  if (!digits(text, 0, 4) || !digits(text, 5, 7) || !digits(text, 8, 10)) return;
  if (!digits(text, 11, 13) || !digits(text, 14, 16) || !digits(text, 17, 19)) return;
  let at = 19;
  let ms = 0;
  if (text[at] === '.') {
    const start = ++at;
    while (at < text.length && digits(text, at, at + 1)) at++;
    if (at === start) return;
    // Milliseconds, the rest truncated (as Date.UTC truncates postgres-date's fraction).
    for (let i = start; i < start + 3; i++) ms = ms * 10 + (i < at ? digit(text, i) : 0);
  }
  const sign = text[at] === '+' ? 1 : text[at] === '-' ? -1 : 0;
  if (sign === 0 || !digits(text, at + 1, at + 3)) return;
  let offsetSeconds = two(text, at + 1) * 3600;
  at += 3;
  // Then :MM and :SS, each optional.
  for (let unit = 60; unit >= 1 && at < text.length; unit /= 60) {
    if (text.charCodeAt(at) !== COLON || !digits(text, at + 1, at + 3)) return;
    offsetSeconds += two(text, at + 1) * unit;
    at += 3;
  }
  if (at !== text.length) return;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + two(text, 2);
  // Years 0–99 would be taken as 1900–1999 by Date.UTC: postgres-date handles them.
  if (year < 100) return;
  const utc = Date.UTC(
    year,
    two(text, 5) - 1,
    two(text, 8),
    two(text, 11),
    two(text, 14),
    two(text, 17),
    ms,
  );
  return new Date(utc - sign * offsetSeconds * 1000);
}

export function parseTimestamptz(text: string): Date | number | null {
  return parsePlain(text) ?? (defaultParser(text) as Date | number | null);
}

/** The pool's type parsers: node-postgres' own, but timestamptz parsed as above. */
export const poolTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.TIMESTAMPTZ && format !== 'binary'
      ? parseTimestamptz
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
