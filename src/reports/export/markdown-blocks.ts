// A small Markdown block parser for the report exporters (HWPX, DOCX). Reports are
// LLM-written Markdown: headings, paragraphs, bullet and numbered lists, and now and then
// a fenced code block, a quote, a table or a rule. This covers that much, line by line,
// with CommonMark's rules where they matter for such text (a `1.`-style marker other than
// `1.` does not interrupt a paragraph, `_` inside a word is not emphasis, setext headings).
// It is not a full Markdown implementation, and needs none for this: no dependency.
import { parseInline, spansText } from './markdown-inline.js';
import { isTableDelimiter, isTableRow, tableRowSpans } from './markdown-table.js';
import type { HeadingLevel, MarkdownBlock } from './markdown-types.js';

export { parseInline, spansText, stripInline } from './markdown-inline.js';
export type { HeadingLevel, InlineSpan, MarkdownBlock } from './markdown-types.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const CLOSING_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const SETEXT_H1 = /^ {0,3}=+[ \t]*$/;
const SETEXT_H2 = /^ {0,3}-+[ \t]*$/;
const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:[ \t]*\S+/;
const CODE_INDENT = /^(?: {4}|\t)/;

/** A list item still taking lines. */
interface OpenItem {
  ordered: boolean;
  marker: string;
  number: number | null;
  level: number;
  contentIndent: number;
  lines: string[];
}

export function parseMarkdownBlocks(markdown: string): MarkdownBlock[] {
  const lines = markdown
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  return new BlockParser(lines).parse();
}

/**
 * The parser's state between lines: the paragraph and list item being collected and the
 * open list. Each `take…` method handles a line of its kind and says whether it did.
 */
class BlockParser {
  private readonly blocks: MarkdownBlock[] = [];
  private paragraph: string[] = [];
  private item: OpenItem | null = null;
  // Open list: the indents of its open levels, its id, whether a blank line came since the last line.
  private listIndents: number[] = [];
  private listId = 0;
  private listOrderedAtTop: boolean | null = null;
  private listOpen = false;
  private blankSinceItemLine = false;

  constructor(private readonly lines: string[]) {}

  parse(): MarkdownBlock[] {
    for (let i = 0; i < this.lines.length; i++) i = this.parseLine(i);
    this.closeAll();
    return this.blocks;
  }

  /** Handles line `i` (and the lines after it that belong to the same block); returns the last line used. */
  private parseLine(i: number): number {
    const line = this.lines[i];
    const fence = FENCE.exec(line);
    if (fence) return this.takeFencedCode(i, fence);
    if (line.trim() === '') {
      this.flushParagraph();
      if (this.item) this.blankSinceItemLine = true;
      return i;
    }
    if (this.takeAtxHeading(line)) return i;
    if (this.takeSetextUnderline(line)) return i;
    if (THEMATIC_BREAK.test(line)) {
      this.closeAll();
      return i;
    }
    if (LINK_DEFINITION.test(line) && this.paragraph.length === 0) return i;
    if (this.takeListItem(line)) return i;
    if (this.takeItemContinuation(line)) return i;

    // Anything else ends an open list.
    if (this.listOpen) this.closeList();

    if (this.takeTableRow(line)) return i;
    // Indented code (4+ spaces, not inside a paragraph or list).
    if (this.paragraph.length === 0 && CODE_INDENT.test(line)) return this.takeIndentedCode(i);
    this.paragraph.push(stripQuote(line.trim()));
    return i;
  }

  /** Fenced code: everything up to the closing fence (or the end) as written. */
  private takeFencedCode(i: number, fence: RegExpExecArray): number {
    this.closeAll();
    const marker = fence[1];
    const code: string[] = [];
    let j = i + 1;
    for (; j < this.lines.length; j++) {
      const close = CLOSING_FENCE.exec(this.lines[j]);
      if (close && close[1][0] === marker[0] && close[1].length >= marker.length) break;
      code.push(this.lines[j]);
    }
    this.blocks.push({ type: 'code', language: fence[2] || null, lines: code });
    return j;
  }

  private takeIndentedCode(i: number): number {
    const code: string[] = [];
    let j = i;
    for (
      ;
      j < this.lines.length && (CODE_INDENT.test(this.lines[j]) || this.lines[j].trim() === '');
      j++
    ) {
      code.push(this.lines[j].replace(CODE_INDENT, ''));
    }
    while (code.length > 0 && code[code.length - 1].trim() === '') code.pop();
    this.blocks.push({ type: 'code', language: null, lines: code });
    return j - 1;
  }

  private takeAtxHeading(line: string): boolean {
    const heading = ATX_HEADING.exec(line);
    if (!heading) return false;
    this.closeAll();
    const content = heading[2]
      .replace(/[ \t]+#+[ \t]*$/, '')
      .replace(/^[ \t]*#+[ \t]*$/, '')
      .trim();
    const spans = parseInline(content);
    this.blocks.push({
      type: 'heading',
      level: heading[1].length as HeadingLevel,
      text: spansText(spans),
      spans,
    });
    return true;
  }

  /** Setext headings: a paragraph underlined with === or ---. */
  private takeSetextUnderline(line: string): boolean {
    if (this.paragraph.length === 0 || !(SETEXT_H1.test(line) || SETEXT_H2.test(line)))
      return false;
    const spans = parseInline(this.paragraph.join(' '));
    this.paragraph = [];
    this.closeList();
    this.blocks.push({
      type: 'heading',
      level: SETEXT_H1.test(line) ? 1 : 2,
      text: spansText(spans),
      spans,
    });
    return true;
  }

  private takeListItem(line: string): boolean {
    const listMatch = LIST_ITEM.exec(line);
    if (!listMatch) return false;
    const marker = listMatch[2];
    const ordered = /\d/.test(marker[0]);
    const number = ordered ? Number.parseInt(marker, 10) : null;
    const content = listMatch[3] ?? '';
    // CommonMark: inside a paragraph, only a non-empty item (and for an ordered one, a `1.`) starts a list.
    const interrupts = content.trim() !== '' && (!ordered || number === 1);
    if (this.paragraph.length > 0 && !interrupts) return false;
    this.flushParagraph();
    const indent = indentWidth(listMatch[1]);
    this.flushItem();
    const level = this.listLevelFor(indent, ordered);
    this.item = {
      ordered,
      marker,
      number,
      level,
      contentIndent: indent + marker.length + 1,
      lines: content.trim() === '' ? [] : [content.trim()],
    };
    this.blankSinceItemLine = false;
    return true;
  }

  /** The nesting level of an item at `indent`, opening a list (or a level of one) as needed. */
  private listLevelFor(indent: number, ordered: boolean): number {
    // A top-level item of the other kind (bullet after numbered) starts a new list.
    const topLevel = this.listIndents.length === 0 || indent <= this.listIndents[0];
    if (
      this.listOpen &&
      topLevel &&
      this.listOrderedAtTop !== null &&
      this.listOrderedAtTop !== ordered
    )
      this.closeList();
    if (!this.listOpen) {
      this.listOpen = true;
      this.listId++;
      this.listIndents = [];
    }
    const indents = this.listIndents;
    while (indents.length > 0 && indent < indents[indents.length - 1]) indents.pop();
    if (indents.length === 0 || indent > indents[indents.length - 1]) indents.push(indent);
    const level = indents.length - 1;
    if (level === 0) this.listOrderedAtTop = ordered;
    return level;
  }

  /** A line inside a list item: right after it (lazy continuation) or indented under it. */
  private takeItemContinuation(line: string): boolean {
    const item = this.item;
    if (!item || this.paragraph.length > 0) return false;
    const indent = indentWidth(/^[ \t]*/.exec(line)![0]);
    if (this.blankSinceItemLine && indent < Math.min(item.contentIndent, 2)) return false;
    item.lines.push(stripQuote(line.trim()));
    this.blankSinceItemLine = false;
    return true;
  }

  /** A table row becomes a paragraph (markdown-table.ts); the delimiter row is dropped. */
  private takeTableRow(line: string): boolean {
    if (!isTableRow(line)) return false;
    this.flushParagraph();
    if (isTableDelimiter(line)) return true;
    const spans = tableRowSpans(line);
    if (spans.length > 0) this.blocks.push({ type: 'paragraph', text: spansText(spans), spans });
    return true;
  }

  private flushParagraph(): void {
    if (this.paragraph.length === 0) return;
    const spans = parseInline(this.paragraph.join(' '));
    this.blocks.push({ type: 'paragraph', text: spansText(spans), spans });
    this.paragraph = [];
  }

  private flushItem(): void {
    const item = this.item;
    if (!item) return;
    const spans = parseInline(item.lines.join(' '));
    this.blocks.push({
      type: 'listItem',
      ordered: item.ordered,
      marker: item.marker,
      number: item.number,
      level: item.level,
      listId: this.listId,
      text: spansText(spans),
      spans,
    });
    this.item = null;
  }

  private closeList(): void {
    this.flushItem();
    this.listOpen = false;
    this.listIndents = [];
    this.listOrderedAtTop = null;
  }

  private closeAll(): void {
    this.flushParagraph();
    this.closeList();
  }
}

/** Columns of leading whitespace (a tab counts to the next multiple of 4). */
function indentWidth(ws: string): number {
  let width = 0;
  for (const ch of ws) width = ch === '\t' ? width + 4 - (width % 4) : width + 1;
  return width;
}

/** `> quoted` (any depth) to its text; quotes become plain paragraphs. */
function stripQuote(line: string): string {
  let out = line;
  let m: RegExpExecArray | null;
  while ((m = QUOTE.exec(out))) out = m[1];
  return out.trim();
}
