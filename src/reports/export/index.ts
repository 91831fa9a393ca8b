// A generated report (Markdown) as downloadable files: the Markdown itself, HWPX for
// Hancom Office Hangul, DOCX for Word. Pure functions: no database, no I/O. The HWPX and DOCX
// writers (and their libraries, docx and fflate) load with the first export, not at start-up.
import type { ReportMeta } from './report-meta.js';

/** Markdown → DOCX, the writer loaded on first use. */
export async function markdownToDocx(markdown: string, meta: ReportMeta): Promise<Buffer> {
  return (await import('./docx.js')).markdownToDocx(markdown, meta);
}

/** Markdown → HWPX, the writer loaded on first use. */
export async function markdownToHwpx(markdown: string, meta: ReportMeta): Promise<Buffer> {
  return (await import('./hwpx.js')).markdownToHwpx(markdown, meta);
}
export {
  parseMarkdownBlocks,
  parseInline,
  stripInline,
  type MarkdownBlock,
  type InlineSpan,
} from './markdown-blocks.js';

export const EXPORT_FORMATS = [
  { format: 'markdown', contentType: 'text/markdown; charset=utf-8', extension: 'md' },
  { format: 'hwpx', contentType: 'application/hwp+zip', extension: 'hwpx' },
  {
    format: 'docx',
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    extension: 'docx',
  },
] as const;

export type ExportFormat = (typeof EXPORT_FORMATS)[number]['format'];

export interface ExportedFile {
  format: ExportFormat;
  contentType: string;
  filename: string;
  data: Buffer;
}

const MAX_SLUG_LENGTH = 80;

/**
 * A file name stem from a title: lower-case ASCII letters and digits and Hangul, other runs
 * as `-`; accents are dropped (`Café` → `cafe`); `report` when nothing is left.
 */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    // NFKD splits Hangul syllables into jamo; put them back together.
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^a-z0-9\p{Script=Hangul}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  const cut = [...slug].slice(0, MAX_SLUG_LENGTH).join('').replace(/-+$/, '');
  return cut || 'report';
}

const RENDERERS: Record<ExportFormat, (markdown: string, meta: ReportMeta) => Promise<Buffer>> = {
  markdown: async (markdown) => Buffer.from(markdown, 'utf8'),
  hwpx: markdownToHwpx,
  docx: markdownToDocx,
};

/** The report in every format of EXPORT_FORMATS (or the ones asked for), in that order. */
export async function exportReport(
  markdown: string,
  meta: ReportMeta,
  formats: readonly ExportFormat[] = EXPORT_FORMATS.map((entry) => entry.format),
): Promise<ExportedFile[]> {
  const stem = slugify(meta.title);
  const wanted = EXPORT_FORMATS.filter((entry) => formats.includes(entry.format));
  return Promise.all(
    wanted.map(async (entry) => ({
      format: entry.format,
      contentType: entry.contentType,
      filename: `${stem}.${entry.extension}`,
      data: await RENDERERS[entry.format](markdown, meta),
    })),
  );
}
