// What the Markdown parser gives the exporters: blocks (headings, paragraphs, list items,
// code) whose text is split into inline spans of one style each.

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
