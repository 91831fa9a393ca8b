// Report export (Markdown → HWPX / DOCX): pure functions, no database.
// The HWPX is read back by an independent reader (@ssabrojs/hwpxjs), and checked again
// with our own unzip + XML parse for what that reader cannot show (exact whitespace, ZIP
// layout, id references).
import { HwpxReader } from '@ssabrojs/hwpxjs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  EXPORT_FORMATS,
  exportReport,
  markdownToDocx,
  markdownToHwpx,
  slugify,
} from '../../src/reports/export/index.js';
import { escapeXml } from '../../src/reports/export/hwpx.js';
import {
  parseInline,
  parseMarkdownBlocks,
  stripInline,
  type MarkdownBlock,
} from '../../src/reports/export/markdown-blocks.js';

const REPORT = `# 시장 분석 보고서

## 1. Market Overview

AI 에이전트 & <tags> 시장은 **빠르게** 성장하고 있으며, "quotes" and 'apostrophes' are kept.
This sentence continues the same paragraph with \`inline code\` and a [link](https://example.com).

### 주요 동향 (Key Trends)

- 생성형 AI 도입 확대
- Enterprise adoption of _agents_
  - 중첩된 항목 (nested item)

1. 첫째: 비용 절감
2. Second: faster delivery
10. 세 번째 항목 (numbered 3, as Markdown counts)

## 2. 결론

보고서 끝. End of report.
`;

const META = { title: '시장 분석 보고서: Q3 2024', createdAt: new Date('2024-09-30T09:00:00Z') };

/** The text each block should become in a document (list markers as the HWPX writes them). */
const EXPECTED_LINES = [
  '시장 분석 보고서',
  '1. Market Overview',
  `AI 에이전트 & <tags> 시장은 빠르게 성장하고 있으며, "quotes" and 'apostrophes' are kept. This sentence continues the same paragraph with inline code and a link.`,
  '주요 동향 (Key Trends)',
  '● 생성형 AI 도입 확대',
  '● Enterprise adoption of agents',
  '○ 중첩된 항목 (nested item)',
  '1. 첫째: 비용 절감',
  '2. Second: faster delivery',
  '3. 세 번째 항목 (numbered 3, as Markdown counts)',
  '2. 결론',
  '보고서 끝. End of report.',
];

function arrayBufferOf(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(
    buffer.byteOffset,
    buffer.byteOffset + buffer.byteLength,
  ) as ArrayBuffer;
}

/** Local file headers in file order: name, compression method, extra length, data. */
function localEntries(zip: Buffer) {
  const entries: Array<{ name: string; method: number; extraLength: number; data: Buffer }> = [];
  let offset = 0;
  while (zip.readUInt32LE(offset) === 0x04034b50) {
    const method = zip.readUInt16LE(offset + 8);
    const compressedSize = zip.readUInt32LE(offset + 18);
    const nameLength = zip.readUInt16LE(offset + 26);
    const extraLength = zip.readUInt16LE(offset + 28);
    const name = zip.toString('utf8', offset + 30, offset + 30 + nameLength);
    const start = offset + 30 + nameLength + extraLength;
    entries.push({ name, method, extraLength, data: zip.subarray(start, start + compressedSize) });
    offset = start + compressedSize;
  }
  return entries;
}

function unzipText(zip: Buffer): Record<string, string> {
  return Object.fromEntries(
    Object.entries(unzipSync(new Uint8Array(zip))).map(([name, bytes]) => [name, strFromU8(bytes)]),
  );
}

// Keeps whitespace and text as written (no trimming, no number parsing), order preserved.
const exactParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  preserveOrder: true,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
});

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function children(node: OrderedNode, name: string): OrderedNode[] {
  const value = node[name];
  return Array.isArray(value) ? (value as OrderedNode[]) : [];
}

function findAll(nodes: OrderedNode[], name: string, out: OrderedNode[] = []): OrderedNode[] {
  for (const node of nodes) {
    for (const key of Object.keys(node)) {
      if (key === ':@' || key === '#text') continue;
      if (key === name) out.push(node);
      findAll(children(node, key), name, out);
    }
  }
  return out;
}

function textOf(nodes: OrderedNode[]): string {
  return nodes
    .map((node) => (typeof node['#text'] === 'string' ? (node['#text'] as string) : ''))
    .join('');
}

/** Each hp:p of section0.xml: its paragraph property and its runs (char property, exact text). */
function sectionParagraphs(sectionXml: string) {
  const tree = exactParser.parse(sectionXml) as OrderedNode[];
  return findAll(tree, 'hp:p').map((p) => {
    const runs = children(p, 'hp:p')
      .filter((node) => 'hp:run' in node)
      .map((run) => ({
        charPr: run[':@']?.['@charPrIDRef'],
        text: children(run, 'hp:run')
          .filter((node) => 'hp:t' in node)
          .map((t) => textOf(children(t, 'hp:t')))
          .join(''),
      }));
    return { paraPr: p[':@']?.['@paraPrIDRef'], runs, text: runs.map((run) => run.text).join('') };
  });
}

describe('Markdown blocks', () => {
  it('parses ATX headings at six levels, dropping closing hashes; #tag is not a heading', () => {
    const blocks = parseMarkdownBlocks(
      '# 제목 하나\n## Two ##\n###### 여섯\n####### seven\n#hashtag',
    );
    expect(
      blocks.map((b) =>
        b.type === 'heading' ? [b.level, b.text] : [b.type, 'text' in b ? b.text : ''],
      ),
    ).toEqual([
      [1, '제목 하나'],
      [2, 'Two'],
      [6, '여섯'],
      ['paragraph', '####### seven #hashtag'],
    ]);
  });

  it('parses setext headings', () => {
    const blocks = parseMarkdownBlocks('Title\n=====\n\nSub title\n---');
    expect(blocks).toMatchObject([
      { type: 'heading', level: 1, text: 'Title' },
      { type: 'heading', level: 2, text: 'Sub title' },
    ]);
  });

  it('joins the lines of a paragraph and splits paragraphs on blank lines', () => {
    const blocks = parseMarkdownBlocks('첫 줄\n둘째 줄\n\n\nNew paragraph\r\nsame one');
    expect(blocks).toMatchObject([
      { type: 'paragraph', text: '첫 줄 둘째 줄' },
      { type: 'paragraph', text: 'New paragraph same one' },
    ]);
  });

  it('parses bullet (-, *, +) and numbered (1. and 1)) items with their nesting level and list', () => {
    const blocks = parseMarkdownBlocks(
      '- one\n* two\n  + nested\n    - deeper\n  continued line\n+ three\n\n1. first\n2) second\n\n   7. seventh after a blank\n\nText\n\n- new list',
    );
    const items = blocks.filter(
      (b): b is Extract<MarkdownBlock, { type: 'listItem' }> => b.type === 'listItem',
    );
    expect(items.map((b) => [b.text, b.level, b.ordered, b.number, b.listId])).toEqual([
      ['one', 0, false, null, 1],
      ['two', 0, false, null, 1],
      ['nested', 1, false, null, 1],
      ['deeper continued line', 2, false, null, 1],
      ['three', 0, false, null, 1],
      ['first', 0, true, 1, 2],
      ['second', 0, true, 2, 2],
      ['seventh after a blank', 1, true, 7, 2],
      ['new list', 0, false, null, 3],
    ]);
    expect(blocks.find((b) => b.type === 'paragraph')).toMatchObject({ text: 'Text' });
  });

  it('does not start a list inside a paragraph for a number other than 1 (dates)', () => {
    const blocks = parseMarkdownBlocks('회의 일자는\n2024. 5. 3. 입니다');
    expect(blocks).toEqual([
      expect.objectContaining({ type: 'paragraph', text: '회의 일자는 2024. 5. 3. 입니다' }),
    ]);
  });

  it('keeps fenced code as written, skips rules, flattens quotes and table rows', () => {
    const blocks = parseMarkdownBlocks(
      '```ts\nconst a = 1 < 2 && **b**;\n\n```\n---\n> 인용 **강조**\n\n| 항목 | 값 |\n|:---|---:|\n| A \\| B | `1` |',
    );
    expect(blocks).toEqual([
      { type: 'code', language: 'ts', lines: ['const a = 1 < 2 && **b**;', ''] },
      expect.objectContaining({ type: 'paragraph', text: '인용 강조' }),
      expect.objectContaining({ type: 'paragraph', text: '항목 | 값' }),
      expect.objectContaining({ type: 'paragraph', text: 'A | B | 1' }),
    ]);
  });

  it('strips inline Markdown to readable text', () => {
    expect(stripInline('**굵게** and __bold__, *기울임* and _italic_, ***both***')).toBe(
      '굵게 and bold, 기울임 and italic, both',
    );
    expect(stripInline('`code_span` and ``a ` tick``')).toBe('code_span and a ` tick');
    expect(
      stripInline(
        '[링크 **텍스트**](https://example.com/a_(b) "title") and ![그림](x.png) and [ref][1]',
      ),
    ).toBe('링크 텍스트 and 그림 and ref');
    expect(stripInline('<https://example.com/x> and <tags> & snake_case_name and 2 * 3 * 4')).toBe(
      'https://example.com/x and <tags> & snake_case_name and 2 * 3 * 4',
    );
    expect(stripInline('\\*not italic\\* ~~gone~~ **unclosed')).toBe(
      '*not italic* gone **unclosed',
    );
  });

  it('keeps emphasis as span styles', () => {
    expect(parseInline('a **b _c_** `d`')).toEqual([
      { text: 'a ', bold: false, italic: false, code: false },
      { text: 'b ', bold: true, italic: false, code: false },
      { text: 'c', bold: true, italic: true, code: false },
      { text: ' ', bold: false, italic: false, code: false },
      { text: 'd', bold: false, italic: false, code: true },
    ]);
  });

  it('escapes the five XML special characters and drops characters XML cannot hold', () => {
    expect(escapeXml(`a & b < c > d " e ' f`)).toBe('a &amp; b &lt; c &gt; d &quot; e &apos; f');
    expect(escapeXml('x\u0000y\u0007z\u000Bw\uD800v\tok')).toBe('xyzwv\tok');
    expect(escapeXml('한글 😀')).toBe('한글 😀');
  });
});

describe('file names', () => {
  it('slugs titles, keeping Hangul, or falls back to report', () => {
    expect(slugify('시장 분석 보고서: Q3/2024')).toBe('시장-분석-보고서-q3-2024');
    expect(slugify('  Café Déjà-vu!  ')).toBe('cafe-deja-vu');
    expect(slugify('日本語のみ')).toBe('report');
    expect(slugify('???')).toBe('report');
    expect([...slugify('가'.repeat(200))]).toHaveLength(80);
  });
});

describe('HWPX', () => {
  it('is a ZIP with mimetype first, stored, application/hwp+zip', async () => {
    const hwpx = await markdownToHwpx(REPORT, META);
    // The local file header at offset 0: signature, compression method 0 (stored), no extra field.
    expect(hwpx.readUInt32LE(0)).toBe(0x04034b50);
    expect(hwpx.readUInt16LE(8)).toBe(0);
    expect(hwpx.toString('ascii', 30, 38)).toBe('mimetype');
    expect(hwpx.readUInt16LE(28)).toBe(0);
    expect(hwpx.toString('ascii', 38, 38 + 19)).toBe('application/hwp+zip');

    const entries = localEntries(hwpx);
    expect(entries[0]).toMatchObject({ name: 'mimetype', method: 0, extraLength: 0 });
    expect(entries.map((e) => e.name).sort()).toEqual(
      [
        'mimetype',
        'version.xml',
        'settings.xml',
        'META-INF/container.xml',
        'META-INF/manifest.xml',
        'Contents/content.hpf',
        'Contents/header.xml',
        'Contents/section0.xml',
        'Preview/PrvText.txt',
      ].sort(),
    );
  });

  it('has well-formed package parts that point at each other', async () => {
    const files = unzipText(await markdownToHwpx(REPORT, META));
    for (const [name, text] of Object.entries(files)) {
      if (name.endsWith('.xml') || name.endsWith('.hpf')) {
        expect(XMLValidator.validate(text), name).toBe(true);
        expect(
          text.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'),
          name,
        ).toBe(true);
      }
    }
    expect(files['META-INF/container.xml']).toContain(
      'xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container"',
    );
    expect(files['META-INF/container.xml']).toContain('full-path="Contents/content.hpf"');
    expect(files['Contents/content.hpf']).toContain('xmlns:opf="http://www.idpf.org/2007/opf/"');
    expect(files['Contents/content.hpf']).toContain(
      '<opf:item id="header" href="Contents/header.xml"',
    );
    expect(files['Contents/content.hpf']).toContain(
      '<opf:item id="section0" href="Contents/section0.xml"',
    );
    expect(files['Contents/content.hpf']).toContain('<opf:itemref idref="section0" linear="yes"/>');
    expect(files['Contents/content.hpf']).toContain(
      '<opf:meta name="CreatedDate" content="text">2024-09-30T09:00:00Z</opf:meta>',
    );
    expect(files['Contents/section0.xml']).toContain(
      'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"',
    );
    expect(files['Contents/section0.xml']).toContain(
      'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"',
    );
    expect(files['Contents/header.xml']).toContain(
      'xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head"',
    );
    expect(files['Contents/header.xml']).toContain(
      'xmlns:hc="http://www.hancom.co.kr/hwpml/2011/core"',
    );
    expect(files['version.xml']).toContain(
      '<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version"',
    );
    expect(files['Preview/PrvText.txt']).toContain('시장 분석 보고서\r\n1. Market Overview\r\n');
  });

  it('refers only to properties its header defines, with counts that match', async () => {
    const files = unzipText(await markdownToHwpx(REPORT, META));
    const header = files['Contents/header.xml'];
    const section = files['Contents/section0.xml'];
    const ids = (tag: string) =>
      new Set([...header.matchAll(new RegExp(`<hh:${tag} id="(\\d+)"`, 'g'))].map((m) => m[1]));
    const refs = (xml: string, attribute: string) =>
      new Set([...xml.matchAll(new RegExp(`${attribute}="(\\d+)"`, 'g'))].map((m) => m[1]));

    const charPrs = ids('charPr');
    const paraPrs = ids('paraPr');
    expect(charPrs.size).toBeGreaterThan(0);
    expect(paraPrs.size).toBeGreaterThan(0);
    for (const id of refs(section, 'charPrIDRef')) expect(charPrs, `charPr ${id}`).toContain(id);
    for (const id of refs(section, 'paraPrIDRef')) expect(paraPrs, `paraPr ${id}`).toContain(id);
    for (const id of refs(section + header, 'styleIDRef')) expect(ids('style')).toContain(id);
    for (const id of refs(section + header, 'borderFillIDRef'))
      expect(ids('borderFill')).toContain(id);
    for (const id of refs(header, 'tabPrIDRef')) expect(ids('tabPr')).toContain(id);
    for (const id of refs(section, 'outlineShapeIDRef')) expect(ids('numbering')).toContain(id);

    for (const [container, item] of [
      ['fontfaces', 'fontface'],
      ['borderFills', 'borderFill'],
      ['charProperties', 'charPr'],
      ['tabProperties', 'tabPr'],
      ['numberings', 'numbering'],
      ['paraProperties', 'paraPr'],
      ['styles', 'style'],
    ]) {
      const count = Number(new RegExp(`<hh:${container} itemCnt="(\\d+)"`).exec(header)?.[1]);
      expect(count, container).toBe((header.match(new RegExp(`<hh:${item} `, 'g')) ?? []).length);
    }
    // The section settings live in the first run of the first paragraph.
    expect(section.indexOf('<hp:secPr')).toBeLessThan(section.indexOf('<hp:t>'));
    expect((section.match(/<hp:secPr /g) ?? []).length).toBe(1);
  });

  it('is read back by an independent HWPX reader (@ssabrojs/hwpxjs)', async () => {
    const hwpx = await markdownToHwpx(REPORT, META);
    const reader = new HwpxReader();
    await reader.loadFromArrayBuffer(arrayBufferOf(hwpx));

    const text = await reader.extractText();
    const lines = text.split('\n');
    // hwpxjs parses XML with fast-xml-parser's trimValues, so the spaces at the edges of
    // a run (before and after **bold**) are lost in what it extracts: compare without
    // whitespace there, and exactly where a paragraph is one run (headings, list items).
    const squash = (s: string) => s.replace(/\s+/g, '');
    expect(lines.map(squash)).toEqual(EXPECTED_LINES.map(squash));
    const multiRun = new Set([2, 5]); // the lines with **bold**, `code`, _italic_
    for (const line of EXPECTED_LINES.filter((_, index) => !multiRun.has(index)))
      expect(lines).toContain(line);
    expect(text).toContain('AI 에이전트 & <tags> 시장은');
    expect(text).toContain(`성장하고 있으며, "quotes" and 'apostrophes' are kept.`);

    const info = await reader.getDocumentInfo();
    expect(info.metadata?.title).toBe(META.title);
    expect(info.summary?.hasEncryptionInfo).toBe(false);
    expect(info.summary?.spine).toEqual(['header', 'section0']);

    // Its HTML view applies our char properties: headings bold and larger than the body.
    const html = await reader.extractHtml();
    expect(html).toContain('<strong><span style="font-size:18pt">시장 분석 보고서</span></strong>');
    expect(html).toContain(
      '<strong><span style="font-size:15pt">1. Market Overview</span></strong>',
    );
    expect(html).toContain('<strong><span style="font-size:10pt">빠르게</span></strong>');
  });

  it('holds the exact text of every block, one hp:p each (own parse)', async () => {
    const files = unzipText(await markdownToHwpx(REPORT, META));
    const paragraphs = sectionParagraphs(files['Contents/section0.xml']);
    expect(paragraphs.map((p) => p.text)).toEqual(EXPECTED_LINES);

    // Headings use their own (bold, larger) char properties; body text the body's.
    const header = files['Contents/header.xml'];
    const charPr = (id: string | undefined) =>
      new RegExp(`<hh:charPr id="${id}" height="(\\d+)"[^>]*>(.*?)</hh:charPr>`).exec(header)!;
    const titleRun = paragraphs[0].runs.find((run) => run.text !== '')!;
    const bodyRun = paragraphs[2].runs[0];
    expect(Number(charPr(titleRun.charPr)[1])).toBeGreaterThan(Number(charPr(bodyRun.charPr)[1]));
    expect(charPr(titleRun.charPr)[2]).toContain('<hh:bold/>');
    expect(charPr(bodyRun.charPr)[2]).not.toContain('<hh:bold/>');
    expect(paragraphs[2].runs.map((run) => run.text)).toEqual([
      'AI 에이전트 & <tags> 시장은 ',
      '빠르게',
      ` 성장하고 있으며, "quotes" and 'apostrophes' are kept. This sentence continues the same paragraph with `,
      'inline code',
      ' and a link.',
    ]);
    // Escaped in the file, not just by the parser's view of it.
    expect(files['Contents/section0.xml']).toContain(
      'AI 에이전트 &amp; &lt;tags&gt; 시장은 </hp:t></hp:run><hp:run charPrIDRef="1"><hp:t>빠르게</hp:t>',
    );
    expect(files['Contents/section0.xml']).toContain(
      '&quot;quotes&quot; and &apos;apostrophes&apos;',
    );
  });

  it('numbers list items as Markdown does: from the first number, nested lists restarting', async () => {
    const markdown = '3. c\n3. d\n   1. x\n   1. y\n   - bullet\n7. e\n   1) z\n\npara\n\n1. again';
    const files = unzipText(await markdownToHwpx(markdown, META));
    expect(sectionParagraphs(files['Contents/section0.xml']).map((p) => p.text)).toEqual([
      '3. c',
      '4. d',
      '1. x',
      '2. y',
      '○ bullet',
      '5. e',
      '1) z',
      'para',
      '1. again',
    ]);
  });

  it('is the same file for the same report', async () => {
    const a = await markdownToHwpx(REPORT, META);
    const b = await markdownToHwpx(REPORT, META);
    expect(a.equals(b)).toBe(true);
  });

  it('writes a valid document for an empty report and for text XML cannot hold', async () => {
    for (const markdown of [
      '',
      'bad \u0001 char and lone \uD800 surrogate',
      '```\n\tindented\n```',
    ]) {
      const hwpx = await markdownToHwpx(markdown, { title: '', createdAt: new Date(0) });
      const files = unzipText(hwpx);
      expect(XMLValidator.validate(files['Contents/section0.xml'])).toBe(true);
      const reader = new HwpxReader();
      await reader.loadFromArrayBuffer(arrayBufferOf(hwpx));
      await expect(reader.extractText()).resolves.toBeTypeOf('string');
    }
  });
});

describe('DOCX', () => {
  /** Texts of the w:p paragraphs of word/document.xml, and the style / list of each. */
  function docxParagraphs(documentXml: string) {
    const decode = (s: string) =>
      s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, '&');
    return [...documentXml.matchAll(/<w:p[ >][\s\S]*?<\/w:p>/g)].map(([p]) => ({
      text: [...p.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => decode(m[1])).join(''),
      style: /<w:pStyle w:val="([^"]+)"/.exec(p)?.[1] ?? null,
      numbered: p.includes('<w:numPr>'),
    }));
  }

  it('opens as a ZIP whose word/document.xml holds every block, headings as Heading styles', async () => {
    const files = unzipText(await markdownToDocx(REPORT, META));
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(['[Content_Types].xml', 'word/document.xml', 'word/numbering.xml']),
    );
    expect(XMLValidator.validate(files['word/document.xml'])).toBe(true);

    const paragraphs = docxParagraphs(files['word/document.xml']).filter((p) => p.text !== '');
    // Word draws list markers itself: list items (lines 4 to 9) have none in their text.
    const withoutMarkers = EXPECTED_LINES.map((line, index) =>
      index >= 4 && index <= 9 ? line.replace(/^\S+ /, '') : line,
    );
    expect(paragraphs.map((p) => p.text)).toEqual(withoutMarkers);
    expect(paragraphs.map((p) => p.style).slice(0, 4)).toEqual([
      'Heading1',
      'Heading2',
      null,
      'Heading3',
    ]);
    expect(paragraphs.filter((p) => p.numbered).map((p) => p.text)).toEqual([
      '생성형 AI 도입 확대',
      'Enterprise adoption of agents',
      '중첩된 항목 (nested item)',
      '첫째: 비용 절감',
      'Second: faster delivery',
      '세 번째 항목 (numbered 3, as Markdown counts)',
    ]);
    expect(files['word/document.xml']).toContain('AI 에이전트 &amp; &lt;tags&gt;');
    expect(files['word/document.xml']).not.toContain('**');
    expect(files['docProps/core.xml']).toContain(`<dc:title>${META.title}</dc:title>`);
  });

  it('starts a numbered list at the number its first item was given', async () => {
    const files = unzipText(await markdownToDocx('4. four\n5. five\n\ntext\n\n1. one', META));
    const numbering = files['word/numbering.xml'];
    expect(numbering).toContain('<w:start w:val="4"/>');
    expect(numbering).toContain('<w:start w:val="1"/>');
    expect(docxParagraphs(files['word/document.xml']).map((p) => [p.text, p.numbered])).toEqual([
      ['four', true],
      ['five', true],
      ['text', false],
      ['one', true],
    ]);
  });
});

describe('exportReport', () => {
  it('returns the report in every format, named after the title', async () => {
    const files = await exportReport(REPORT, META);
    expect(
      files.map(({ format, contentType, filename }) => ({ format, contentType, filename })),
    ).toEqual([
      {
        format: 'markdown',
        contentType: 'text/markdown; charset=utf-8',
        filename: '시장-분석-보고서-q3-2024.md',
      },
      {
        format: 'hwpx',
        contentType: 'application/hwp+zip',
        filename: '시장-분석-보고서-q3-2024.hwpx',
      },
      {
        format: 'docx',
        contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        filename: '시장-분석-보고서-q3-2024.docx',
      },
    ]);
    expect(files.map((f) => f.format)).toEqual(EXPORT_FORMATS.map((f) => f.format));
    expect(files[0].data.toString('utf8')).toBe(REPORT);
    expect(files[1].data.subarray(30, 38).toString('ascii')).toBe('mimetype');
    expect(files[2].data.subarray(0, 2).toString('ascii')).toBe('PK');

    const untitled = await exportReport('본문', { title: '!!!', createdAt: META.createdAt }, [
      'hwpx',
    ]);
    expect(untitled.map((f) => f.filename)).toEqual(['report.hwpx']);
  });
});
