// The report the export test files write (Markdown with Hangul, emphasis, nested and
// numbered lists), the text each block should become, and readers of what comes out:
// the ZIP's local headers, its parts as text, and section0.xml's paragraphs parsed exactly.
import { XMLParser } from 'fast-xml-parser';
import { strFromU8, unzipSync } from 'fflate';

export const REPORT = `# 시장 분석 보고서

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

export const META = {
  title: '시장 분석 보고서: Q3 2024',
  createdAt: new Date('2024-09-30T09:00:00Z'),
};

/** The text each block should become in a document (list markers as the HWPX writes them). */
export const EXPECTED_LINES = [
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

export function arrayBufferOf(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(
    buffer.byteOffset,
    buffer.byteOffset + buffer.byteLength,
  ) as ArrayBuffer;
}

/** Local file headers in file order: name, compression method, extra length, data. */
export function localEntries(zip: Buffer) {
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

export function unzipText(zip: Buffer): Record<string, string> {
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
export function sectionParagraphs(sectionXml: string) {
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
