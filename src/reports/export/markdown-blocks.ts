// A small Markdown block parser for the report exporters (HWPX, DOCX). Reports are
// LLM-written Markdown: headings, paragraphs, bullet and numbered lists, and now and then
// a fenced code block, a quote, a table or a rule. This covers that much, line by line,
// with CommonMark's rules where they matter for such text (a `1.`-style marker other than
// `1.` does not interrupt a paragraph, `_` inside a word is not emphasis, setext headings).
// It is not a full Markdown implementation, and needs none for this: no dependency.

export interface InlineSpan {
  text: string;
  bold: boolean;
  italic: boolean;
  code: boolean;
}

export type HeadingLevel = 1 | 2 | 3 | 4 | 5 | 6;

export type MarkdownBlock =
  | { type: 'heading'; level: HeadingLevel; text: string; spans: InlineSpan[] }
  | { type: 'paragraph'; text: string; spans: InlineSpan[] }
  | {
      type: 'listItem';
      ordered: boolean;
      /** The marker as written for an ordered item (`3.`, `2)`), or `-`/`*`/`+` for a bullet. */
      marker: string;
      /** The ordered item's number, null for a bullet. */
      number: number | null;
      /** Nesting depth, 0 for a top-level item. */
      level: number;
      /** Items of one list (consecutive items, blank lines allowed between them) share an id. */
      listId: number;
      text: string;
      spans: InlineSpan[];
    }
  /** A fenced or indented code block: its lines as written, no inline parsing. */
  | { type: 'code'; language: string | null; lines: string[] };

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const SETEXT_H1 = /^ {0,3}=+[ \t]*$/;
const SETEXT_H2 = /^ {0,3}-+[ \t]*$/;
const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;
const TABLE_ROW = /^[ \t]*\|.*\|[ \t]*$/;
const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:[ \t]*\S+/;

/** Columns of leading whitespace (a tab counts to the next multiple of 4). */
function indentWidth(ws: string): number {
  let width = 0;
  for (const ch of ws) width = ch === '\t' ? width + 4 - (width % 4) : width + 1;
  return width;
}

export function parseMarkdownBlocks(markdown: string): MarkdownBlock[] {
  const lines = markdown.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const blocks: MarkdownBlock[] = [];

  let paragraph: string[] = [];
  let item: { ordered: boolean; marker: string; number: number | null; level: number; contentIndent: number; lines: string[] } | null =
    null;
  // Open list: the indents of its open levels, its id, whether a blank line came since the last line.
  let listIndents: number[] = [];
  let listId = 0;
  let listOrderedAtTop: boolean | null = null;
  let listOpen = false;
  let blankSinceItemLine = false;

  const flushParagraph = () => {
    if (paragraph.length > 0) {
      const spans = parseInline(paragraph.join(' '));
      blocks.push({ type: 'paragraph', text: spansText(spans), spans });
      paragraph = [];
    }
  };
  const flushItem = () => {
    if (item) {
      const spans = parseInline(item.lines.join(' '));
      blocks.push({
        type: 'listItem',
        ordered: item.ordered,
        marker: item.marker,
        number: item.number,
        level: item.level,
        listId,
        text: spansText(spans),
        spans,
      });
      item = null;
    }
  };
  const closeList = () => {
    flushItem();
    listOpen = false;
    listIndents = [];
    listOrderedAtTop = null;
  };
  const closeAll = () => {
    flushParagraph();
    closeList();
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];

    // Fenced code: everything up to the closing fence (or the end) as written.
    const fence = FENCE.exec(line);
    if (fence) {
      closeAll();
      const marker = fence[1];
      const code: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[j]);
        if (close && close[1][0] === marker[0] && close[1].length >= marker.length) break;
        code.push(lines[j]);
      }
      blocks.push({ type: 'code', language: fence[2] || null, lines: code });
      i = j;
      continue;
    }

    if (line.trim() === '') {
      flushParagraph();
      if (item) blankSinceItemLine = true;
      continue;
    }

    const heading = ATX_HEADING.exec(line);
    if (heading) {
      closeAll();
      const content = heading[2].replace(/[ \t]+#+[ \t]*$/, '').replace(/^[ \t]*#+[ \t]*$/, '').trim();
      const spans = parseInline(content);
      blocks.push({ type: 'heading', level: heading[1].length as HeadingLevel, text: spansText(spans), spans });
      continue;
    }

    // Setext headings: a paragraph underlined with === or ---.
    if (paragraph.length > 0 && (SETEXT_H1.test(line) || SETEXT_H2.test(line))) {
      const spans = parseInline(paragraph.join(' '));
      paragraph = [];
      closeList();
      blocks.push({ type: 'heading', level: SETEXT_H1.test(line) ? 1 : 2, text: spansText(spans), spans });
      continue;
    }

    if (THEMATIC_BREAK.test(line)) {
      closeAll();
      continue;
    }

    if (LINK_DEFINITION.test(line) && paragraph.length === 0) continue;

    const listMatch = LIST_ITEM.exec(line);
    if (listMatch) {
      const marker = listMatch[2];
      const ordered = /\d/.test(marker[0]);
      const number = ordered ? Number.parseInt(marker, 10) : null;
      const content = listMatch[3] ?? '';
      // CommonMark: inside a paragraph, only a non-empty item (and for an ordered one, a `1.`) starts a list.
      const interrupts = content.trim() !== '' && (!ordered || number === 1);
      if (paragraph.length === 0 || interrupts) {
        flushParagraph();
        const indent = indentWidth(listMatch[1]);
        flushItem();
        // A top-level item of the other kind (bullet after numbered) starts a new list.
        const topLevel = listIndents.length === 0 || indent <= listIndents[0];
        if (listOpen && topLevel && listOrderedAtTop !== null && listOrderedAtTop !== ordered) closeList();
        if (!listOpen) {
          listOpen = true;
          listId++;
          listIndents = [];
        }
        while (listIndents.length > 0 && indent < listIndents[listIndents.length - 1]) listIndents.pop();
        if (listIndents.length === 0 || indent > listIndents[listIndents.length - 1]) listIndents.push(indent);
        const level = listIndents.length - 1;
        if (level === 0) listOrderedAtTop = ordered;
        item = {
          ordered,
          marker,
          number,
          level,
          contentIndent: indent + marker.length + 1,
          lines: content.trim() === '' ? [] : [content.trim()],
        };
        blankSinceItemLine = false;
        continue;
      }
    }

    // A line inside a list item: right after it (lazy continuation) or indented under it.
    if (item && paragraph.length === 0) {
      const indent = indentWidth(/^[ \t]*/.exec(line)![0]);
      if (!blankSinceItemLine || indent >= Math.min(item.contentIndent, 2)) {
        item.lines.push(stripQuote(line.trim()));
        blankSinceItemLine = false;
        continue;
      }
    }

    // Anything else ends an open list.
    if (listOpen) closeList();

    if (TABLE_ROW.test(line)) {
      flushParagraph();
      if (TABLE_DELIMITER.test(line)) continue;
      const cells = splitTableRow(line);
      const spans = joinSpans(cells.map((cell) => parseInline(cell)), ' | ');
      if (spans.length > 0) blocks.push({ type: 'paragraph', text: spansText(spans), spans });
      continue;
    }

    // Indented code (4+ spaces, not inside a paragraph or list).
    if (paragraph.length === 0 && /^(?: {4}|\t)/.test(line)) {
      const code: string[] = [];
      let j = i;
      for (; j < lines.length && (/^(?: {4}|\t)/.test(lines[j]) || lines[j].trim() === ''); j++) {
        code.push(lines[j].replace(/^(?: {4}|\t)/, ''));
      }
      while (code.length > 0 && code[code.length - 1].trim() === '') code.pop();
      blocks.push({ type: 'code', language: null, lines: code });
      i = j - 1;
      continue;
    }

    paragraph.push(stripQuote(line.trim()));
  }
  closeAll();
  return blocks;
}

/** `> quoted` (any depth) to its text; quotes become plain paragraphs. */
function stripQuote(line: string): string {
  let out = line;
  let m: RegExpExecArray | null;
  while ((m = QUOTE.exec(out))) out = m[1];
  return out.trim();
}

function splitTableRow(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let current = '';
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === '\\' && inner[i + 1] === '|') {
      current += '|';
      i++;
    } else if (inner[i] === '|') {
      cells.push(current.trim());
      current = '';
    } else {
      current += inner[i];
    }
  }
  cells.push(current.trim());
  return cells;
}

function joinSpans(parts: InlineSpan[][], separator: string): InlineSpan[] {
  const out: InlineSpan[] = [];
  parts.forEach((spans, index) => {
    if (index > 0) out.push({ text: separator, bold: false, italic: false, code: false });
    out.push(...spans);
  });
  return mergeSpans(out);
}

export function spansText(spans: InlineSpan[]): string {
  return spans.map((span) => span.text).join('');
}

// ---------------------------------------------------------------------------------------
// Inline Markdown: emphasis becomes span styles, code spans keep their text, links and
// images keep their text (the URL is dropped), autolinks keep their URL, HTML stays as text.

interface InlineStyle {
  bold: boolean;
  italic: boolean;
}

const ESCAPABLE = /[!-/:-@[-`{-~]/;

export function parseInline(source: string): InlineSpan[] {
  return mergeSpans(parseInlineWith(source.replace(/\s+/g, ' ').trim(), { bold: false, italic: false }));
}

/** Plain text of inline Markdown: `**a** [b](c)` → `a b`. */
export function stripInline(source: string): string {
  return spansText(parseInline(source));
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
    const ch = src[i];

    if (ch === '\\' && i + 1 < src.length && ESCAPABLE.test(src[i + 1])) {
      buffer += src[i + 1];
      i += 2;
      continue;
    }

    if (ch === '`') {
      const run = /^`+/.exec(src.slice(i))![0];
      const close = findBacktickRun(src, i + run.length, run.length);
      if (close >= 0) {
        flush();
        let code = src.slice(i + run.length, close);
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '') code = code.slice(1, -1);
        out.push({ text: code, bold: style.bold, italic: style.italic, code: true });
        i = close + run.length;
      } else {
        buffer += run;
        i += run.length;
      }
      continue;
    }

    if (ch === '[' || (ch === '!' && src[i + 1] === '[')) {
      const start = ch === '!' ? i + 1 : i;
      const link = matchLink(src, start);
      if (link) {
        flush();
        // An image keeps its alt text; a link's text may itself hold emphasis.
        if (ch === '!') buffer += link.text;
        else out.push(...parseInlineWith(link.text, style));
        i = link.end;
        continue;
      }
      buffer += ch;
      i++;
      continue;
    }

    if (ch === '<') {
      const auto = /^<((?:https?|ftp|mailto):[^\s<>]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>/i.exec(src.slice(i));
      if (auto) {
        buffer += auto[1];
        i += auto[0].length;
        continue;
      }
      buffer += ch;
      i++;
      continue;
    }

    if (ch === '~' && src[i + 1] === '~') {
      const close = src.indexOf('~~', i + 2);
      if (close > i + 2 && !/\s/.test(src[i + 2]) && !/\s/.test(src[close - 1])) {
        flush();
        out.push(...parseInlineWith(src.slice(i + 2, close), style));
        i = close + 2;
        continue;
      }
    }

    if (ch === '*' || ch === '_') {
      const run = ch === '*' ? /^\*+/.exec(src.slice(i))![0] : /^_+/.exec(src.slice(i))![0];
      const emphasis = matchEmphasis(src, i, ch, Math.min(run.length, 3));
      if (emphasis) {
        flush();
        const inner: InlineStyle = {
          bold: style.bold || emphasis.length >= 2,
          italic: style.italic || emphasis.length !== 2,
        };
        out.push(...parseInlineWith(src.slice(i + emphasis.length, emphasis.close), inner));
        i = emphasis.close + emphasis.length;
        continue;
      }
      buffer += run;
      i += run.length;
      continue;
    }

    buffer += ch;
    i++;
  }
  flush();
  return out;
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
function matchEmphasis(src: string, start: number, ch: string, length: number): { length: number; close: number } | null {
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

function mergeSpans(spans: InlineSpan[]): InlineSpan[] {
  const out: InlineSpan[] = [];
  for (const span of spans) {
    if (!span.text) continue;
    const last = out[out.length - 1];
    if (last && last.bold === span.bold && last.italic === span.italic && last.code === span.code) last.text += span.text;
    else out.push({ ...span });
  }
  return out;
}
