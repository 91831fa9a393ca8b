// Markdown report → DOCX (Office Open XML) with the `docx` package: headings as Word's
// Heading 1..6 styles (so they show in the navigation pane and a table of contents), bullet
// items as Word bullets, numbered items as Word numbering that starts at the number written.
import {
  AlignmentType,
  Document,
  HeadingLevel,
  LevelFormat,
  Packer,
  Paragraph,
  TextRun,
  type ILevelsOptions,
  type NumberingDefinition,
} from 'docx';
import { parseMarkdownBlocks, type InlineSpan, type MarkdownBlock } from './markdown-blocks.js';
import type { ReportMeta } from './report-meta.js';

const HEADINGS = [
  HeadingLevel.HEADING_1,
  HeadingLevel.HEADING_2,
  HeadingLevel.HEADING_3,
  HeadingLevel.HEADING_4,
  HeadingLevel.HEADING_5,
  HeadingLevel.HEADING_6,
] as const;

const BODY_FONT = { ascii: 'Calibri', hAnsi: 'Calibri', cs: 'Calibri', eastAsia: 'Malgun Gothic' };
const CODE_FONT = { ascii: 'Consolas', hAnsi: 'Consolas', cs: 'Consolas', eastAsia: 'GulimChe' };
const MAX_LEVEL = 8;

/** Tabs as spaces: a tab in a run's text would need its own element (w:tab). */
function runsOf(spans: InlineSpan[]): TextRun[] {
  return spans.map(
    (span) =>
      new TextRun({
        text: span.text.replace(/\t/g, '    '),
        bold: span.bold || undefined,
        italics: span.italic || undefined,
        font: span.code ? CODE_FONT : undefined,
      }),
  );
}

/** One numbering definition per ordered list, starting at the numbers its items were given. */
function orderedListDefinitions(blocks: MarkdownBlock[]): NumberingDefinition[] {
  const starts = new Map<number, Map<number, number>>();
  for (const block of blocks) {
    if (block.type !== 'listItem' || !block.ordered) continue;
    const levels = starts.get(block.listId) ?? new Map<number, number>();
    const level = Math.min(block.level, MAX_LEVEL);
    if (!levels.has(level)) levels.set(level, block.number ?? 1);
    starts.set(block.listId, levels);
  }
  return [...starts].map(([listId, levels]) => ({
    reference: orderedReference(listId),
    levels: Array.from({ length: MAX_LEVEL + 1 }, (_, level): ILevelsOptions => ({
      level,
      // Decimal at every level, as browsers number nested <ol> (and as the HWPX writes them).
      format: LevelFormat.DECIMAL,
      text: `%${level + 1}.`,
      start: levels.get(level) ?? 1,
      alignment: AlignmentType.START,
      style: { paragraph: { indent: { left: 720 * (level + 1), hanging: 360 } } },
    })),
  }));
}

function orderedReference(listId: number): string {
  return `ordered-list-${listId}`;
}

function toParagraphs(blocks: MarkdownBlock[]): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'heading':
        paragraphs.push(
          new Paragraph({ heading: HEADINGS[block.level - 1], children: runsOf(block.spans) }),
        );
        break;
      case 'paragraph':
        paragraphs.push(new Paragraph({ children: runsOf(block.spans), spacing: { after: 120 } }));
        break;
      case 'listItem': {
        const level = Math.min(block.level, MAX_LEVEL);
        paragraphs.push(
          new Paragraph({
            children: runsOf(block.spans),
            ...(block.ordered
              ? { numbering: { reference: orderedReference(block.listId), level } }
              : { bullet: { level } }),
          }),
        );
        break;
      }
      case 'code':
        for (const line of block.lines.length > 0 ? block.lines : ['']) {
          paragraphs.push(
            new Paragraph({
              children: [
                new TextRun({ text: line.replace(/\t/g, '    '), font: CODE_FONT, size: 19 }),
              ],
              spacing: { after: 0 },
              indent: { left: 360 },
            }),
          );
        }
        break;
    }
  }
  return paragraphs;
}

export async function markdownToDocx(markdown: string, meta: ReportMeta): Promise<Buffer> {
  const blocks = parseMarkdownBlocks(markdown);
  const heading = (size: number) => ({
    run: { size, bold: true, font: BODY_FONT, color: '1F3864' },
    paragraph: { spacing: { before: 240, after: 120 } },
  });
  const document = new Document({
    title: meta.title,
    creator: 'agent-growth',
    description: `Report generated ${meta.createdAt.toISOString()}`,
    styles: {
      default: {
        document: {
          run: { font: BODY_FONT, size: 22, language: { value: 'en-US', eastAsia: 'ko-KR' } },
          paragraph: { spacing: { line: 300 } },
        },
        heading1: heading(36),
        heading2: heading(30),
        heading3: heading(26),
        heading4: heading(24),
        heading5: heading(22),
        heading6: heading(22),
      },
    },
    numbering: { config: orderedListDefinitions(blocks) },
    sections: [{ children: toParagraphs(blocks) }],
  });
  return Packer.toBuffer(document);
}
