// Report export to DOCX, and exportReport giving every format named after the title: pure
// functions, no database.
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, exportReport, markdownToDocx } from '../../src/reports/export/index.js';
import { EXPECTED_LINES, META, REPORT, unzipText } from './export-fixtures.js';

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
