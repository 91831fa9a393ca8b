// Contents/section0.xml of an HWPX: the body (hs:sec > hp:p > hp:run > hp:t), the section
// settings hp:secPr in the first run of the first paragraph.
//
// Every paragraph is written without hp:linesegarray, the cached line layout: Hangul lays
// the text out when it opens the file (a stale or guessed cache makes it draw lines on top
// of each other). List markers are written as text (no Hangul numbering objects), so a
// list reads the same in any reader.
import { CHAR, LIST_LEVELS, PARA } from './hwpx-header.js';
import { escapeXml, NS_DECLARATIONS, XML_PROLOG } from './hwpx-xml.js';
import type { InlineSpan, MarkdownBlock } from './markdown-types.js';

type HeadingBlock = Extract<MarkdownBlock, { type: 'heading' }>;
type ListItemBlock = Extract<MarkdownBlock, { type: 'listItem' }>;
type CodeBlock = Extract<MarkdownBlock, { type: 'code' }>;

/** A4 portrait, 30 mm left/right and 20 mm top margins (Hangul's defaults); text width 42520. */
function sectionPropertiesXml(): string {
  const noteFormat = `<hp:autoNumFormat type="DIGIT" userChar="" prefixChar="" suffixChar=")" supscript="0"/>`;
  const pageBorderFill = (type: string) =>
    `<hp:pageBorderFill type="${type}" borderFillIDRef="1" textBorder="PAPER" ` +
    `headerInside="0" footerInside="0" fillArea="PAPER">` +
    `<hp:offset left="1417" right="1417" top="1417" bottom="1417"/></hp:pageBorderFill>`;
  return (
    `<hp:secPr id="" textDirection="HORIZONTAL" spaceColumns="1134" tabStop="8000" ` +
    `tabStopVal="4000" tabStopUnit="HWPUNIT" outlineShapeIDRef="1" memoShapeIDRef="0" ` +
    `textVerticalWidthHead="0" masterPageCnt="0">` +
    `<hp:grid lineGrid="0" charGrid="0" wonggojiFormat="0"/>` +
    `<hp:startNum pageStartsOn="BOTH" page="0" pic="0" tbl="0" equation="0"/>` +
    `<hp:visibility hideFirstHeader="0" hideFirstFooter="0" hideFirstMasterPage="0" ` +
    `border="SHOW_ALL" fill="SHOW_ALL" hideFirstPageNum="0" hideFirstEmptyLine="0" ` +
    `showLineNumber="0"/>` +
    `<hp:lineNumberShape restartType="0" countBy="0" distance="0" startNumber="0"/>` +
    `<hp:pagePr landscape="WIDELY" width="59528" height="84188" gutterType="LEFT_ONLY">` +
    `<hp:margin header="4252" footer="4252" gutter="0" left="8504" right="8504" top="5668" bottom="4252"/>` +
    `</hp:pagePr>` +
    `<hp:footNotePr>${noteFormat}<hp:noteLine length="-1" type="SOLID" width="0.12 mm" color="#000000"/>` +
    `<hp:noteSpacing betweenNotes="283" belowLine="567" aboveLine="850"/><hp:numbering type="CONTINUOUS" newNum="1"/>` +
    `<hp:placement place="EACH_COLUMN" beneathText="0"/></hp:footNotePr>` +
    `<hp:endNotePr>${noteFormat}<hp:noteLine length="14692344" type="SOLID" width="0.12 mm" color="#000000"/>` +
    `<hp:noteSpacing betweenNotes="0" belowLine="567" aboveLine="850"/><hp:numbering type="CONTINUOUS" newNum="1"/>` +
    `<hp:placement place="END_OF_DOCUMENT" beneathText="0"/></hp:endNotePr>` +
    pageBorderFill('BOTH') +
    pageBorderFill('EVEN') +
    pageBorderFill('ODD') +
    `</hp:secPr>` +
    `<hp:ctrl><hp:colPr id="" type="NEWSPAPER" layout="LEFT" colCount="1" sameSz="1" sameGap="0"/></hp:ctrl>`
  );
}

interface Run {
  charPr: number;
  text: string;
}

export interface Paragraph {
  paraPr: number;
  runs: Run[];
}

const HEADING_CHAR = [CHAR.h1, CHAR.h2, CHAR.h3, CHAR.h4, CHAR.h4, CHAR.h4];
const BULLETS = ['●', '○', '■', '-'];

function spanChar(span: InlineSpan): number {
  if (span.code) return CHAR.code;
  if (span.bold && span.italic) return CHAR.boldItalic;
  if (span.bold) return CHAR.bold;
  if (span.italic) return CHAR.italic;
  return CHAR.body;
}

/** Tabs as spaces (an HWPX tab is an element, hp:tab), so text stays in hp:t. */
function runText(text: string): string {
  return text.replace(/\t/g, '    ');
}

export function toParagraphs(blocks: MarkdownBlock[]): Paragraph[] {
  const markers = new ListMarkers();
  const paragraphs = blocks.flatMap((block): Paragraph[] => {
    switch (block.type) {
      case 'heading':
        return [headingParagraph(block)];
      case 'paragraph':
        return [{ paraPr: PARA.body, runs: spanRuns(block.spans) }];
      case 'listItem':
        return [listItemParagraph(block, markers.next(block))];
      case 'code':
        return codeParagraphs(block);
    }
  });
  return paragraphs.map((paragraph) => ({ ...paragraph, runs: mergeRuns(paragraph.runs) }));
}

function spanRuns(spans: InlineSpan[]): Run[] {
  return spans.map((span) => ({ charPr: spanChar(span), text: span.text }));
}

function headingParagraph(heading: HeadingBlock): Paragraph {
  return {
    paraPr: heading.level === 1 ? PARA.h1 : PARA.heading,
    runs: [{ charPr: HEADING_CHAR[heading.level - 1], text: heading.text }],
  };
}

function listItemParagraph(item: ListItemBlock, marker: string): Paragraph {
  const level = Math.min(item.level, LIST_LEVELS - 1);
  // The marker takes the style of the text it opens, so the two share a run.
  const first = item.spans[0] ? spanChar(item.spans[0]) : CHAR.body;
  return {
    paraPr: PARA.list0 + level,
    runs: [{ charPr: first, text: `${marker} ` }, ...spanRuns(item.spans)],
  };
}

/** One paragraph per line of code (an empty block still takes a line). */
function codeParagraphs(code: CodeBlock): Paragraph[] {
  const lines = code.lines.length > 0 ? code.lines : [''];
  return lines.map((line) => ({ paraPr: PARA.code, runs: [{ charPr: CHAR.code, text: line }] }));
}

/**
 * The text marker of each list item, in document order. Numbered items count as Markdown
 * renderers (and Word) count them: from the number the list's first item was given, one up
 * per item, a nested list restarting its own count.
 */
class ListMarkers {
  private counters: Array<number | undefined> = [];
  private counterList = -1;

  next(item: ListItemBlock): string {
    if (item.listId !== this.counterList) {
      this.counters = [];
      this.counterList = item.listId;
    }
    const counters = this.counters;
    counters.length = item.level + 1;
    if (!item.ordered) {
      counters[item.level] = undefined;
      return BULLETS[Math.min(item.level, BULLETS.length - 1)];
    }
    const previous = counters[item.level];
    const number = previous === undefined ? (item.number ?? 1) : previous + 1;
    counters[item.level] = number;
    return `${number}${item.marker.slice(-1)}`;
  }
}

/** Adjacent runs of one char property as one run; empty runs dropped. */
function mergeRuns(runs: Run[]): Run[] {
  const out: Run[] = [];
  for (const run of runs) {
    if (run.text === '') continue;
    const last = out[out.length - 1];
    if (last && last.charPr === run.charPr) last.text += run.text;
    else out.push({ ...run });
  }
  return out;
}

function runXml(run: Run): string {
  return `<hp:run charPrIDRef="${run.charPr}"><hp:t>${escapeXml(runText(run.text))}</hp:t></hp:run>`;
}

export function sectionXml(paragraphs: Paragraph[]): string {
  const body = (paragraphs.length > 0 ? paragraphs : [{ paraPr: PARA.body, runs: [] }])
    .map((paragraph, index) => {
      const runs = paragraph.runs;
      // The section settings open the first paragraph, in a run of their own.
      const settings =
        index === 0
          ? `<hp:run charPrIDRef="${runs[0]?.charPr ?? CHAR.body}">${sectionPropertiesXml()}</hp:run>`
          : '';
      const content =
        runs.length > 0 || index === 0
          ? runs.map(runXml).join('')
          : `<hp:run charPrIDRef="${CHAR.body}"/>`;
      return (
        `<hp:p id="0" paraPrIDRef="${paragraph.paraPr}" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0">` +
        settings +
        content +
        `</hp:p>`
      );
    })
    .join('');
  return XML_PROLOG + `<hs:sec ${NS_DECLARATIONS}>${body}</hs:sec>`;
}
