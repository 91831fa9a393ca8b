// Contents/header.xml of an HWPX: the property tables (fonts, border fills, char and para
// shapes, numbering, styles) the body refers to by id.
// Units: HWPUNIT = 1/7200 inch; a character height of 1000 is 10 pt.
import { escapeXml, NS_DECLARATIONS, XML_PROLOG } from './hwpx-xml.js';

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
export const CHAR = {
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
export const PARA = {
  normal: 0,
  body: 1,
  h1: 2,
  heading: 3,
  list0: 4, // list levels 0..3 are 4..7
  code: 8,
} as const;
export const LIST_LEVELS = 4;

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
      `<hh:typeInfo familyType="${font.family}" weight="6" proportion="4" contrast="0" ` +
      `strokeVariation="1" armStyle="1" letterform="1" midline="1" xHeight="1"/>` +
      `</hh:font>`,
  ).join('');
  return (
    `<hh:fontfaces itemCnt="${LANGS.length}">` +
    LANGS.map(
      (lang) => `<hh:fontface lang="${lang}" fontCnt="${FONTS.length}">${fonts}</hh:fontface>`,
    ).join('') +
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
    (fill
      ? `<hc:fillBrush><hc:winBrush faceColor="none" hatchColor="#999999" alpha="0"/></hc:fillBrush>`
      : '') +
    `</hh:borderFill>`
  );
}

function langValues(value: number | string): string {
  return LANGS.map((lang) => `${lang.toLowerCase()}="${value}"`).join(' ');
}

function charPrXml(shape: CharShape, id: number): string {
  return (
    `<hh:charPr id="${id}" height="${shape.height}" textColor="${shape.color ?? '#000000'}" ` +
    `shadeColor="none" useFontSpace="0" useKerning="0" symMark="NONE" borderFillIDRef="2">` +
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
    `<hh:paraPr id="${id}" tabPrIDRef="0" condense="0" fontLineHeight="0" snapToGrid="1" ` +
    `suppressLineNumbers="0" checked="0">` +
    `<hh:align horizontal="${shape.align}" vertical="BASELINE"/>` +
    `<hh:heading type="NONE" idRef="0" level="0"/>` +
    `<hh:breakSetting breakLatinWord="KEEP_WORD" breakNonLatinWord="KEEP_WORD" ` +
    `widowOrphan="0" keepWithNext="${shape.keepWithNext ? 1 : 0}" keepLines="0" ` +
    `pageBreakBefore="0" lineWrap="BREAK"/>` +
    `<hh:autoSpacing eAsianEng="0" eAsianNum="0"/>` +
    `<hp:switch>` +
    `<hp:case hp:required-namespace="http://www.hancom.co.kr/hwpml/2016/HwpUnitChar">${spacing(1)}</hp:case>` +
    `<hp:default>${spacing(2)}</hp:default>` +
    `</hp:switch>` +
    `<hh:border borderFillIDRef="2" offsetLeft="0" offsetRight="0" offsetTop="0" ` +
    `offsetBottom="0" connect="0" ignoreMargin="0"/>` +
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
          `<hh:paraHead start="1" level="${index + 1}" align="LEFT" useInstWidth="1" ` +
          `autoIndent="1" widthAdjust="0" textOffsetType="PERCENT" textOffset="50" ` +
          `numFormat="${format}" charPrIDRef="4294967295" ` +
          `checkable="${index === 6 ? 1 : 0}">${text}</hh:paraHead>`,
      )
      .join('') +
    `</hh:numbering></hh:numberings>`
  );
}

export function headerXml(): string {
  return (
    XML_PROLOG +
    `<hh:head ${NS_DECLARATIONS} version="1.4" secCnt="1">` +
    `<hh:beginNum page="1" footnote="1" endnote="1" pic="1" tbl="1" equation="1"/>` +
    `<hh:refList>` +
    fontfacesXml() +
    `<hh:borderFills itemCnt="2">${borderFillXml(1, false)}${borderFillXml(2, true)}</hh:borderFills>` +
    `<hh:charProperties itemCnt="${CHAR_SHAPES.length}">${CHAR_SHAPES.map(charPrXml).join('')}</hh:charProperties>` +
    `<hh:tabProperties itemCnt="2"><hh:tabPr id="0" autoTabLeft="0" ` +
    `autoTabRight="0"/><hh:tabPr id="1" autoTabLeft="1" autoTabRight="0"/></hh:tabProperties>` +
    numberingsXml() +
    `<hh:paraProperties itemCnt="${PARA_SHAPES.length}">${PARA_SHAPES.map(paraPrXml).join('')}</hh:paraProperties>` +
    `<hh:styles itemCnt="1">` +
    `<hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="${PARA.normal}" ` +
    `charPrIDRef="${CHAR.body}" nextStyleIDRef="0" langID="1042" lockForm="0"/>` +
    `</hh:styles>` +
    `</hh:refList>` +
    `<hh:compatibleDocument targetProgram="HWP201X"><hh:layoutCompatibility/></hh:compatibleDocument>` +
    `<hh:docOption><hh:linkinfo path="" pageInherit="0" footnoteInherit="0"/></hh:docOption>` +
    // Sic: Hangul spells this element "trackchageConfig".
    `<hh:trackchageConfig flags="56"/>` +
    `</hh:head>`
  );
}
