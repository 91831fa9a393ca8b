// Report export to HWPX: pure functions, no database. Read back by an independent reader
// (@ssabrojs/hwpxjs), and checked again with our own unzip + XML parse for what that reader
// cannot show (exact whitespace, ZIP layout, id references).
import { HwpxReader } from '@ssabrojs/hwpxjs';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { markdownToHwpx } from '../../src/reports/export/index.js';
import {
  arrayBufferOf,
  EXPECTED_LINES,
  localEntries,
  META,
  REPORT,
  sectionParagraphs,
  unzipText,
} from './export-fixtures.js';

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
