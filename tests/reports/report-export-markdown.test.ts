// Report export, the Markdown side: blocks and inline spans as the exporters read them, XML
// escaping, and file names. Pure functions, no database.
import { describe, expect, it } from 'vitest';
import { slugify } from '../../src/reports/export/index.js';
import { escapeXml } from '../../src/reports/export/hwpx.js';
import {
  parseInline,
  parseMarkdownBlocks,
  stripInline,
  type MarkdownBlock,
} from '../../src/reports/export/markdown-blocks.js';

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
