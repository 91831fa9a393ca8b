// Markdown report → HWPX (OWPML, KS X 6101), the package format of Hancom Office Hangul.
//
// The package follows what Hangul itself saves: a ZIP whose first entry is `mimetype`
// (stored, `application/hwp+zip`), `version.xml` (hv:HCFVersion), `META-INF/container.xml`
// (OCF, pointing at Contents/content.hpf), an empty `META-INF/manifest.xml`,
// `Contents/content.hpf` (OPF: metadata, manifest, spine), `Contents/header.xml` (fonts,
// border fills, char/para properties, tabs, numbering, styles), `Contents/section0.xml`
// (the body: hs:sec > hp:p > hp:run > hp:t, the section settings hp:secPr in the first
// run of the first paragraph), `settings.xml` and `Preview/PrvText.txt`.
//
// Every paragraph is written without hp:linesegarray, the cached line layout: Hangul lays
// the text out when it opens the file (a stale or guessed cache makes it draw lines on top
// of each other). List markers are written as text (no Hangul numbering objects), so a
// list reads the same in any reader.
import { zipSync, strToU8, type ZippableFile } from 'fflate';
import { parseMarkdownBlocks, type InlineSpan, type MarkdownBlock } from './markdown-blocks.js';
import type { ReportMeta } from './index.js';

export const HWPX_MIME_TYPE = 'application/hwp+zip';

const XML_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>';

// The namespaces Hangul declares on the root of header.xml, section*.xml and content.hpf.
const OWPML_NAMESPACES = [
  ['ha', 'http://www.hancom.co.kr/hwpml/2011/app'],
  ['hp', 'http://www.hancom.co.kr/hwpml/2011/paragraph'],
  ['hp10', 'http://www.hancom.co.kr/hwpml/2016/paragraph'],
  ['hs', 'http://www.hancom.co.kr/hwpml/2011/section'],
  ['hc', 'http://www.hancom.co.kr/hwpml/2011/core'],
  ['hh', 'http://www.hancom.co.kr/hwpml/2011/head'],
  ['hhs', 'http://www.hancom.co.kr/hwpml/2011/history'],
  ['hm', 'http://www.hancom.co.kr/hwpml/2011/master-page'],
  ['hpf', 'http://www.hancom.co.kr/schema/2011/hpf'],
  ['dc', 'http://purl.org/dc/elements/1.1/'],
  ['opf', 'http://www.idpf.org/2007/opf/'],
  ['ooxmlchart', 'http://www.hancom.co.kr/hwpml/2016/ooxmlchart'],
  ['hwpunitchar', 'http://www.hancom.co.kr/hwpml/2016/HwpUnitChar'],
  ['epub', 'http://www.idpf.org/2007/ops'],
  ['config', 'urn:oasis:names:tc:opendocument:xmlns:config:1.0'],
] as const;
const NS_DECLARATIONS = OWPML_NAMESPACES.map(([prefix, uri]) => `xmlns:${prefix}="${uri}"`).join(' ');

// ---------------------------------------------------------------------------------------
// XML text

// Characters XML 1.0 does not allow, and unpaired surrogates (not encodable in UTF-8).
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text for XML content or an attribute value: & < > " ' escaped, disallowed characters dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

// ---------------------------------------------------------------------------------------
// Header: the property tables the body refers to by id.
// Units: HWPUNIT = 1/7200 inch; a character height of 1000 is 10 pt.

const LANGS = ['HANGUL', 'LATIN', 'HANJA', 'JAPANESE', 'OTHER', 'SYMBOL', 'USER'] as const;

/** Font ids, the same in every language's font list. 함초롬바탕/돋움 ship with Hangul; 굴림체 with Korean Windows. */
const FONTS = [
  { face: '함초롬바탕', family: 'FCAT_MYUNGJO' }, // 0: body
  { face: '함초롬돋움', family: 'FCAT_GOTHIC' }, // 1: headings
  { face: '굴림체', family: 'FCAT_GOTHIC' }, // 2: code (fixed width)
] as const;

interface CharShape {
  height: number;
  font: number;
  bold?: boolean;
  italic?: boolean;
  color?: string;
}

/** charPr ids. */
const CHAR = {
  body: 0,
  bold: 1,
  italic: 2,
  boldItalic: 3,
  h1: 4,
  h2: 5,
  h3: 6,
  h4: 7,
  code: 8,
} as const;

const CHAR_SHAPES: CharShape[] = [
  { height: 1000, font: 0 },
  { height: 1000, font: 0, bold: true },
  { height: 1000, font: 0, italic: true },
  { height: 1000, font: 0, bold: true, italic: true },
  { height: 1800, font: 1, bold: true },
  { height: 1500, font: 1, bold: true },
  { height: 1300, font: 1, bold: true },
  { height: 1100, font: 1, bold: true },
  { height: 950, font: 2, color: '#333333' },
];

interface ParaShape {
  align: 'JUSTIFY' | 'LEFT' | 'CENTER' | 'RIGHT';
  /** First-line offset from `left`; negative for a hanging indent. */
  intent?: number;
  left?: number;
  prev?: number;
  next?: number;
  lineSpacing: number;
  keepWithNext?: boolean;
}

/** paraPr ids. */
const PARA = {
  normal: 0,
  body: 1,
  h1: 2,
  heading: 3,
  list0: 4, // list levels 0..3 are 4..7
  code: 8,
} as const;
const LIST_LEVELS = 4;

const PARA_SHAPES: ParaShape[] = [
  { align: 'JUSTIFY', lineSpacing: 160 },
  { align: 'JUSTIFY', lineSpacing: 160, next: 600 },
  { align: 'LEFT', lineSpacing: 160, next: 800, keepWithNext: true },
  { align: 'LEFT', lineSpacing: 160, prev: 1000, next: 400, keepWithNext: true },
  ...Array.from({ length: LIST_LEVELS }, (_, level): ParaShape => ({
    align: 'LEFT',
    lineSpacing: 160,
    left: 2000 * (level + 1),
    intent: -1400,
    next: 200,
  })),
  { align: 'LEFT', lineSpacing: 130, left: 1000 },
];

function fontfacesXml(): string {
  const fonts = FONTS.map(
    (font, id) =>
      `<hh:font id="${id}" face="${escapeXml(font.face)}" type="TTF" isEmbedded="0">` +
      `<hh:typeInfo familyType="${font.family}" weight="6" proportion="4" contrast="0" strokeVariation="1" armStyle="1" letterform="1" midline="1" xHeight="1"/>` +
      `</hh:font>`,
  ).join('');
  return (
    `<hh:fontfaces itemCnt="${LANGS.length}">` +
    LANGS.map((lang) => `<hh:fontface lang="${lang}" fontCnt="${FONTS.length}">${fonts}</hh:fontface>`).join('') +
    `</hh:fontfaces>`
  );
}

function borderFillXml(id: number, fill: boolean): string {
  const border = (side: string) => `<hh:${side} type="NONE" width="0.1 mm" color="#000000"/>`;
  return (
    `<hh:borderFill id="${id}" threeD="0" shadow="0" centerLine="NONE" breakCellSeparateLine="0">` +
    `<hh:slash type="NONE" Crooked="0" isCounter="0"/><hh:backSlash type="NONE" Crooked="0" isCounter="0"/>` +
    border('leftBorder') +
    border('rightBorder') +
    border('topBorder') +
    border('bottomBorder') +
    `<hh:diagonal type="SOLID" width="0.1 mm" color="#000000"/>` +
    (fill ? `<hc:fillBrush><hc:winBrush faceColor="none" hatchColor="#999999" alpha="0"/></hc:fillBrush>` : '') +
    `</hh:borderFill>`
  );
}

function langValues(value: number | string): string {
  return LANGS.map((lang) => `${lang.toLowerCase()}="${value}"`).join(' ');
}

function charPrXml(shape: CharShape, id: number): string {
  return (
    `<hh:charPr id="${id}" height="${shape.height}" textColor="${shape.color ?? '#000000'}" shadeColor="none" useFontSpace="0" useKerning="0" symMark="NONE" borderFillIDRef="2">` +
    `<hh:fontRef ${langValues(shape.font)}/>` +
    `<hh:ratio ${langValues(100)}/>` +
    `<hh:spacing ${langValues(0)}/>` +
    `<hh:relSz ${langValues(100)}/>` +
    `<hh:offset ${langValues(0)}/>` +
    (shape.bold ? '<hh:bold/>' : '') +
    (shape.italic ? '<hh:italic/>' : '') +
    `<hh:underline type="NONE" shape="SOLID" color="#000000"/>` +
    `<hh:strikeout shape="NONE" color="#000000"/>` +
    `<hh:outline type="NONE"/>` +
    `<hh:shadow type="NONE" color="#B2B2B2" offsetX="10" offsetY="10"/>` +
    `</hh:charPr>`
  );
}

function paraPrXml(shape: ParaShape, id: number): string {
  // Hangul writes margins twice: in HWPUNIT for readers that know the 2016 unit
  // namespace, and at twice the value (the older unit) for the rest.
  const spacing = (scale: number) =>
    `<hh:margin>` +
    `<hc:intent value="${(shape.intent ?? 0) * scale}" unit="HWPUNIT"/>` +
    `<hc:left value="${(shape.left ?? 0) * scale}" unit="HWPUNIT"/>` +
    `<hc:right value="0" unit="HWPUNIT"/>` +
    `<hc:prev value="${(shape.prev ?? 0) * scale}" unit="HWPUNIT"/>` +
    `<hc:next value="${(shape.next ?? 0) * scale}" unit="HWPUNIT"/>` +
    `</hh:margin>` +
    `<hh:lineSpacing type="PERCENT" value="${shape.lineSpacing}" unit="HWPUNIT"/>`;
  return (
    `<hh:paraPr id="${id}" tabPrIDRef="0" condense="0" fontLineHeight="0" snapToGrid="1" suppressLineNumbers="0" checked="0">` +
    `<hh:align horizontal="${shape.align}" vertical="BASELINE"/>` +
    `<hh:heading type="NONE" idRef="0" level="0"/>` +
    `<hh:breakSetting breakLatinWord="KEEP_WORD" breakNonLatinWord="KEEP_WORD" widowOrphan="0" keepWithNext="${shape.keepWithNext ? 1 : 0}" keepLines="0" pageBreakBefore="0" lineWrap="BREAK"/>` +
    `<hh:autoSpacing eAsianEng="0" eAsianNum="0"/>` +
    `<hp:switch>` +
    `<hp:case hp:required-namespace="http://www.hancom.co.kr/hwpml/2016/HwpUnitChar">${spacing(1)}</hp:case>` +
    `<hp:default>${spacing(2)}</hp:default>` +
    `</hp:switch>` +
    `<hh:border borderFillIDRef="2" offsetLeft="0" offsetRight="0" offsetTop="0" offsetBottom="0" connect="0" ignoreMargin="0"/>` +
    `</hh:paraPr>`
  );
}

/** The outline numbering the section settings refer to (Hangul's default shapes). */
function numberingsXml(): string {
  const heads: Array<[string, string]> = [
    ['DIGIT', '^1.'],
    ['HANGUL_SYLLABLE', '^2.'],
    ['DIGIT', '^3)'],
    ['HANGUL_SYLLABLE', '^4)'],
    ['DIGIT', '(^5)'],
    ['HANGUL_SYLLABLE', '(^6)'],
    ['CIRCLED_DIGIT', '^7'],
  ];
  return (
    `<hh:numberings itemCnt="1"><hh:numbering id="1" start="0">` +
    heads
      .map(
        ([format, text], index) =>
          `<hh:paraHead start="1" level="${index + 1}" align="LEFT" useInstWidth="1" autoIndent="1" widthAdjust="0" textOffsetType="PERCENT" textOffset="50" numFormat="${format}" charPrIDRef="4294967295" checkable="${index === 6 ? 1 : 0}">${text}</hh:paraHead>`,
      )
      .join('') +
    `</hh:numbering></hh:numberings>`
  );
}

function headerXml(): string {
  return (
    XML_PROLOG +
    `<hh:head ${NS_DECLARATIONS} version="1.4" secCnt="1">` +
    `<hh:beginNum page="1" footnote="1" endnote="1" pic="1" tbl="1" equation="1"/>` +
    `<hh:refList>` +
    fontfacesXml() +
    `<hh:borderFills itemCnt="2">${borderFillXml(1, false)}${borderFillXml(2, true)}</hh:borderFills>` +
    `<hh:charProperties itemCnt="${CHAR_SHAPES.length}">${CHAR_SHAPES.map(charPrXml).join('')}</hh:charProperties>` +
    `<hh:tabProperties itemCnt="2"><hh:tabPr id="0" autoTabLeft="0" autoTabRight="0"/><hh:tabPr id="1" autoTabLeft="1" autoTabRight="0"/></hh:tabProperties>` +
    numberingsXml() +
    `<hh:paraProperties itemCnt="${PARA_SHAPES.length}">${PARA_SHAPES.map(paraPrXml).join('')}</hh:paraProperties>` +
    `<hh:styles itemCnt="1">` +
    `<hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="${PARA.normal}" charPrIDRef="${CHAR.body}" nextStyleIDRef="0" langID="1042" lockForm="0"/>` +
    `</hh:styles>` +
    `</hh:refList>` +
    `<hh:compatibleDocument targetProgram="HWP201X"><hh:layoutCompatibility/></hh:compatibleDocument>` +
    `<hh:docOption><hh:linkinfo path="" pageInherit="0" footnoteInherit="0"/></hh:docOption>` +
    // Sic: Hangul spells this element "trackchageConfig".
    `<hh:trackchageConfig flags="56"/>` +
    `</hh:head>`
  );
}

// ---------------------------------------------------------------------------------------
// Section: the body.

/** A4 portrait, 30 mm left/right and 20 mm top margins (Hangul's defaults); text width 42520. */
function sectionPropertiesXml(): string {
  const noteFormat = `<hp:autoNumFormat type="DIGIT" userChar="" prefixChar="" suffixChar=")" supscript="0"/>`;
  const pageBorderFill = (type: string) =>
    `<hp:pageBorderFill type="${type}" borderFillIDRef="1" textBorder="PAPER" headerInside="0" footerInside="0" fillArea="PAPER">` +
    `<hp:offset left="1417" right="1417" top="1417" bottom="1417"/></hp:pageBorderFill>`;
  return (
    `<hp:secPr id="" textDirection="HORIZONTAL" spaceColumns="1134" tabStop="8000" tabStopVal="4000" tabStopUnit="HWPUNIT" outlineShapeIDRef="1" memoShapeIDRef="0" textVerticalWidthHead="0" masterPageCnt="0">` +
    `<hp:grid lineGrid="0" charGrid="0" wonggojiFormat="0"/>` +
    `<hp:startNum pageStartsOn="BOTH" page="0" pic="0" tbl="0" equation="0"/>` +
    `<hp:visibility hideFirstHeader="0" hideFirstFooter="0" hideFirstMasterPage="0" border="SHOW_ALL" fill="SHOW_ALL" hideFirstPageNum="0" hideFirstEmptyLine="0" showLineNumber="0"/>` +
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

interface Paragraph {
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

function toParagraphs(blocks: MarkdownBlock[]): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  // Numbered items count as Markdown renderers (and Word) count them: from the number the
  // list's first item was given, one up per item, a nested list restarting its own count.
  let counters: Array<number | undefined> = [];
  let counterList = -1;
  for (const block of blocks) {
    switch (block.type) {
      case 'heading': {
        const charPr = HEADING_CHAR[block.level - 1];
        paragraphs.push({
          paraPr: block.level === 1 ? PARA.h1 : PARA.heading,
          runs: [{ charPr, text: block.text }],
        });
        break;
      }
      case 'paragraph':
        paragraphs.push({
          paraPr: PARA.body,
          runs: block.spans.map((span) => ({ charPr: spanChar(span), text: span.text })),
        });
        break;
      case 'listItem': {
        if (block.listId !== counterList) {
          counters = [];
          counterList = block.listId;
        }
        counters.length = block.level + 1;
        let marker: string;
        if (block.ordered) {
          const previous = counters[block.level];
          const number = previous === undefined ? (block.number ?? 1) : previous + 1;
          counters[block.level] = number;
          marker = `${number}${block.marker.slice(-1)}`;
        } else {
          counters[block.level] = undefined;
          marker = BULLETS[Math.min(block.level, BULLETS.length - 1)];
        }
        const level = Math.min(block.level, LIST_LEVELS - 1);
        // The marker takes the style of the text it opens, so the two share a run.
        const first = block.spans[0] ? spanChar(block.spans[0]) : CHAR.body;
        paragraphs.push({
          paraPr: PARA.list0 + level,
          runs: [{ charPr: first, text: `${marker} ` }, ...block.spans.map((span) => ({ charPr: spanChar(span), text: span.text }))],
        });
        break;
      }
      case 'code':
        for (const line of block.lines.length > 0 ? block.lines : ['']) {
          paragraphs.push({ paraPr: PARA.code, runs: [{ charPr: CHAR.code, text: line }] });
        }
        break;
    }
  }
  return paragraphs.map((paragraph) => ({ ...paragraph, runs: mergeRuns(paragraph.runs) }));
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

function sectionXml(paragraphs: Paragraph[]): string {
  const body = (paragraphs.length > 0 ? paragraphs : [{ paraPr: PARA.body, runs: [] }])
    .map((paragraph, index) => {
      const runs = paragraph.runs;
      // The section settings open the first paragraph, in a run of their own.
      const settings =
        index === 0 ? `<hp:run charPrIDRef="${runs[0]?.charPr ?? CHAR.body}">${sectionPropertiesXml()}</hp:run>` : '';
      const content = runs.length > 0 || index === 0 ? runs.map(runXml).join('') : `<hp:run charPrIDRef="${CHAR.body}"/>`;
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

// ---------------------------------------------------------------------------------------
// Package parts

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function contentHpfXml(meta: ReportMeta): string {
  const created = isoSeconds(meta.createdAt);
  const localDate = meta.createdAt.toLocaleString('ko-KR', { timeZone: 'Asia/Seoul', dateStyle: 'full', timeStyle: 'medium' });
  return (
    XML_PROLOG +
    `<opf:package ${NS_DECLARATIONS} version="" unique-identifier="" id="">` +
    `<opf:metadata>` +
    `<opf:title>${escapeXml(meta.title)}</opf:title>` +
    `<opf:language>ko</opf:language>` +
    `<opf:meta name="creator" content="text"/>` +
    `<opf:meta name="subject" content="text"/>` +
    `<opf:meta name="description" content="text"/>` +
    `<opf:meta name="lastsaveby" content="text"/>` +
    `<opf:meta name="CreatedDate" content="text">${created}</opf:meta>` +
    `<opf:meta name="ModifiedDate" content="text">${created}</opf:meta>` +
    `<opf:meta name="date" content="text">${escapeXml(localDate)}</opf:meta>` +
    `<opf:meta name="keyword" content="text"/>` +
    `</opf:metadata>` +
    `<opf:manifest>` +
    `<opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>` +
    `<opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/>` +
    `<opf:item id="settings" href="settings.xml" media-type="application/xml"/>` +
    `</opf:manifest>` +
    `<opf:spine>` +
    `<opf:itemref idref="header" linear="yes"/>` +
    `<opf:itemref idref="section0" linear="yes"/>` +
    `</opf:spine>` +
    `</opf:package>`
  );
}

const VERSION_XML =
  XML_PROLOG +
  // Sic: the attribute is "tagetApplication" in OWPML.
  `<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" tagetApplication="WORDPROCESSOR" major="5" minor="0" micro="5" buildNumber="0" os="1" xmlVersion="1.4" application="agent-growth report export" appVersion="1.0"/>`;

const CONTAINER_XML =
  XML_PROLOG +
  `<ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:hpf="http://www.hancom.co.kr/schema/2011/hpf">` +
  `<ocf:rootfiles>` +
  `<ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/>` +
  `<ocf:rootfile full-path="Preview/PrvText.txt" media-type="text/plain"/>` +
  `</ocf:rootfiles>` +
  `</ocf:container>`;

const MANIFEST_XML = XML_PROLOG + `<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>`;

const SETTINGS_XML =
  XML_PROLOG +
  `<ha:HWPApplicationSetting xmlns:ha="http://www.hancom.co.kr/hwpml/2011/app" xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0">` +
  `<ha:CaretPosition listIDRef="0" paraIDRef="0" pos="0"/>` +
  `</ha:HWPApplicationSetting>`;

/** The preview text Hangul shows in file pickers: the first ~1000 characters, CRLF lines. */
function previewText(paragraphs: Paragraph[]): string {
  let out = '';
  for (const paragraph of paragraphs) {
    const line = paragraph.runs.map((run) => run.text).join('');
    if (out.length + line.length > 1000) {
      out += line.slice(0, Math.max(0, 1000 - out.length));
      break;
    }
    out += `${line}\r\n`;
  }
  return out.replace(INVALID_XML_CHARS, '');
}

/** ZIP times are DOS times: 1980..2107. */
function zipTime(date: Date): Date {
  const time = date.getTime();
  if (Number.isNaN(time) || date.getFullYear() < 1980) return new Date(1980, 0, 1);
  if (date.getFullYear() > 2099) return new Date(2099, 11, 31);
  return date;
}

export async function markdownToHwpx(markdown: string, meta: ReportMeta): Promise<Buffer> {
  const paragraphs = toParagraphs(parseMarkdownBlocks(markdown));
  const mtime = zipTime(meta.createdAt);
  const stored = (text: string): ZippableFile => [strToU8(text), { level: 0, mtime }];
  const deflated = (text: string): ZippableFile => [strToU8(text), { level: 6, mtime }];

  // Insertion order is entry order: `mimetype` first and stored, so the package can be
  // recognised from its first bytes (as with ODF and EPUB).
  const zip = zipSync({
    mimetype: stored(HWPX_MIME_TYPE),
    'version.xml': stored(VERSION_XML),
    'Contents/header.xml': deflated(headerXml()),
    'Contents/section0.xml': deflated(sectionXml(paragraphs)),
    'Preview/PrvText.txt': deflated(previewText(paragraphs)),
    'settings.xml': deflated(SETTINGS_XML),
    'META-INF/container.xml': deflated(CONTAINER_XML),
    'Contents/content.hpf': deflated(contentHpfXml(meta)),
    'META-INF/manifest.xml': deflated(MANIFEST_XML),
  });
  return Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
}
