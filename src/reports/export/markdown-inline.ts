// Inline Markdown: emphasis becomes span styles, code spans keep their text, links and
// images keep their text (the URL is dropped), autolinks keep their URL, HTML stays as text.
import type { InlineSpan } from './markdown-types.js';

interface InlineStyle {
  bold: boolean;
  italic: boolean;
}

/** What the construct at one position became: plain text, or spans of their own, or both. */
interface InlineToken {
  /** Text for the running plain-text buffer (after any spans). */
  text?: string;
  /** Spans that end the running buffer and go out as they are. */
  spans?: InlineSpan[];
  /** Where the next construct starts. */
  end: number;
}

const ESCAPABLE = /[!-/:-@[-`{-~]/;
const AUTOLINK = /^<((?:https?|ftp|mailto):[^\s<>]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>/i;

export function parseInline(source: string): InlineSpan[] {
  return mergeSpans(
    parseInlineWith(source.replace(/\s+/g, ' ').trim(), { bold: false, italic: false }),
  );
}

/** Plain text of inline Markdown: `**a** [b](c)` → `a b`. */
export function stripInline(source: string): string {
  return spansText(parseInline(source));
}

export function spansText(spans: InlineSpan[]): string {
  return spans.map((span) => span.text).join('');
}

/** Adjacent spans of one style as one span; empty spans dropped. */
export function mergeSpans(spans: InlineSpan[]): InlineSpan[] {
  const out: InlineSpan[] = [];
  for (const span of spans) {
    if (!span.text) continue;
    const last = out[out.length - 1];
    if (last && last.bold === span.bold && last.italic === span.italic && last.code === span.code)
      last.text += span.text;
    else out.push({ ...span });
  }
  return out;
}

function parseInlineWith(src: string, style: InlineStyle): InlineSpan[] {
  const out: InlineSpan[] = [];
  let buffer = '';
  const flush = () => {
    if (buffer) out.push({ text: buffer, bold: style.bold, italic: style.italic, code: false });
    buffer = '';
  };

  let i = 0;
  while (i < src.length) {
    const token = readToken(src, i, style);
    if (token.spans) {
      flush();
      out.push(...token.spans);
    }
    if (token.text) buffer += token.text;
    i = token.end;
  }
  flush();
  return out;
}

/** The construct starting at `i`; a character that starts none is plain text. */
function readToken(src: string, i: number, style: InlineStyle): InlineToken {
  const ch = src[i];
  if (ch === '\\' && i + 1 < src.length && ESCAPABLE.test(src[i + 1]))
    return { text: src[i + 1], end: i + 2 };
  if (ch === '`') return readCodeSpan(src, i, style);
  if (ch === '[' || (ch === '!' && src[i + 1] === '[')) return readLinkOrImage(src, i, style);
  if (ch === '<') return readAutolink(src, i);
  if (ch === '~' && src[i + 1] === '~')
    return readStrikethrough(src, i, style) ?? { text: ch, end: i + 1 };
  if (ch === '*' || ch === '_') return readEmphasis(src, i, style);
  return { text: ch, end: i + 1 };
}

function readCodeSpan(src: string, i: number, style: InlineStyle): InlineToken {
  const run = /^`+/.exec(src.slice(i))![0];
  const close = findBacktickRun(src, i + run.length, run.length);
  if (close < 0) return { text: run, end: i + run.length };
  let code = src.slice(i + run.length, close);
  if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '')
    code = code.slice(1, -1);
  return {
    spans: [{ text: code, bold: style.bold, italic: style.italic, code: true }],
    end: close + run.length,
  };
}

function readLinkOrImage(src: string, i: number, style: InlineStyle): InlineToken {
  const image = src[i] === '!';
  const link = matchLink(src, image ? i + 1 : i);
  if (!link) return { text: src[i], end: i + 1 };
  // An image keeps its alt text; a link's text may itself hold emphasis.
  if (image) return { spans: [], text: link.text, end: link.end };
  return { spans: parseInlineWith(link.text, style), end: link.end };
}

function readAutolink(src: string, i: number): InlineToken {
  const auto = AUTOLINK.exec(src.slice(i));
  if (!auto) return { text: src[i], end: i + 1 };
  return { text: auto[1], end: i + auto[0].length };
}

function readStrikethrough(src: string, i: number, style: InlineStyle): InlineToken | null {
  const close = src.indexOf('~~', i + 2);
  if (close > i + 2 && !/\s/.test(src[i + 2]) && !/\s/.test(src[close - 1])) {
    return { spans: parseInlineWith(src.slice(i + 2, close), style), end: close + 2 };
  }
  return null;
}

function readEmphasis(src: string, i: number, style: InlineStyle): InlineToken {
  const ch = src[i];
  const run = ch === '*' ? /^\*+/.exec(src.slice(i))![0] : /^_+/.exec(src.slice(i))![0];
  const emphasis = matchEmphasis(src, i, ch, Math.min(run.length, 3));
  if (!emphasis) return { text: run, end: i + run.length };
  const inner: InlineStyle = {
    bold: style.bold || emphasis.length >= 2,
    italic: style.italic || emphasis.length !== 2,
  };
  return {
    spans: parseInlineWith(src.slice(i + emphasis.length, emphasis.close), inner),
    end: emphasis.close + emphasis.length,
  };
}

function findBacktickRun(src: string, from: number, length: number): number {
  for (let j = from; j < src.length; j++) {
    if (src[j] !== '`') continue;
    let k = j;
    while (k < src.length && src[k] === '`') k++;
    if (k - j === length) return j;
    j = k;
  }
  return -1;
}

/** `[text](url "title")`, `[text][ref]` or `[text][]` starting at `start` (the `[`). */
function matchLink(src: string, start: number): { text: string; end: number } | null {
  let depth = 0;
  let j = start;
  for (; j < src.length; j++) {
    if (src[j] === '\\') {
      j++;
      continue;
    }
    if (src[j] === '[') depth++;
    else if (src[j] === ']' && --depth === 0) break;
  }
  if (j >= src.length) return null;
  const text = src.slice(start + 1, j);
  const after = j + 1;
  if (src[after] === '(') {
    let parens = 0;
    for (let k = after; k < src.length; k++) {
      if (src[k] === '\\') {
        k++;
        continue;
      }
      if (src[k] === '(') parens++;
      else if (src[k] === ')' && --parens === 0) return { text, end: k + 1 };
    }
    return null;
  }
  if (src[after] === '[') {
    const close = src.indexOf(']', after);
    if (close > 0 && !text.startsWith('^')) return { text, end: close + 1 };
  }
  return null;
}

/**
 * An emphasis run of `length` (1: italic, 2: bold, 3: both) opening at `start`, closed by
 * the same run later in the text. An opener must be followed, and a closer preceded, by a
 * non-space; `_` does not open or close inside a word (snake_case stays as written).
 */
function matchEmphasis(
  src: string,
  start: number,
  ch: string,
  length: number,
): { length: number; close: number } | null {
  for (let len = length; len >= 1; len--) {
    const open = start + len;
    if (open >= src.length || /\s/.test(src[open])) continue;
    if (ch === '_' && start > 0 && /[\p{L}\p{N}]/u.test(src[start - 1])) return null;
    const delimiter = ch.repeat(len);
    for (let j = open + 1; j <= src.length - len; j++) {
      if (src[j - 1] === '\\') continue;
      if (src.startsWith(delimiter, j) && !/\s/.test(src[j - 1])) {
        // Skip a longer run (`**` when looking for `*`) unless it closes exactly here.
        if (src[j + len] === ch && len < 3) {
          const longer = /^[*_]+/.exec(src.slice(j))![0].length;
          if (longer !== len && longer < len + 2) {
            j += longer - 1;
            continue;
          }
        }
        if (ch === '_' && j + len < src.length && /[\p{L}\p{N}]/u.test(src[j + len])) continue;
        // Skip code spans inside: a delimiter between backticks is not a closer.
        if (insideCodeSpan(src, open, j)) continue;
        return { length: len, close: j };
      }
    }
  }
  return null;
}

function insideCodeSpan(src: string, from: number, at: number): boolean {
  let ticks = 0;
  for (let k = from; k < at; k++) if (src[k] === '`') ticks++;
  return ticks % 2 === 1;
}
