// Tables in report Markdown (GitHub's pipe tables): the exporters have no table layout, so a
// row becomes a paragraph of its cells joined by ` | `, and the delimiter row is dropped.
import { mergeSpans, parseInline } from './markdown-inline.js';
import type { InlineSpan } from './markdown-types.js';

const TABLE_ROW = /^[ \t]*\|.*\|[ \t]*$/;
const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

export const isTableRow = (line: string) => TABLE_ROW.test(line);
export const isTableDelimiter = (line: string) => TABLE_DELIMITER.test(line);

/** A row's cells, each parsed for inline styles, joined by ` | `. */
export function tableRowSpans(line: string): InlineSpan[] {
  return joinSpans(
    splitTableRow(line).map((cell) => parseInline(cell)),
    ' | ',
  );
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
