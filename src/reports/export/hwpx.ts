// Markdown report → HWPX (OWPML, KS X 6101), the package format of Hancom Office Hangul.
//
// The package follows what Hangul itself saves: a ZIP whose first entry is `mimetype`
// (stored, `application/hwp+zip`), `version.xml` (hv:HCFVersion), `META-INF/container.xml`
// (OCF, pointing at Contents/content.hpf), an empty `META-INF/manifest.xml`,
// `Contents/content.hpf` (OPF: metadata, manifest, spine), `Contents/header.xml` (fonts,
// border fills, char/para properties, tabs, numbering, styles), `Contents/section0.xml`
// (the body: hs:sec > hp:p > hp:run > hp:t, the section settings hp:secPr in the first
// run of the first paragraph), `settings.xml` and `Preview/PrvText.txt`.
import { zipSync, strToU8, type ZippableFile } from 'fflate';
import { headerXml } from './hwpx-header.js';
import {
  CONTAINER_XML,
  contentHpfXml,
  MANIFEST_XML,
  previewText,
  SETTINGS_XML,
  VERSION_XML,
} from './hwpx-package.js';
import { sectionXml, toParagraphs } from './hwpx-section.js';
import type { ReportMeta } from './report-meta.js';
import { parseMarkdownBlocks } from './markdown-blocks.js';

export { escapeXml } from './hwpx-xml.js';

export const HWPX_MIME_TYPE = 'application/hwp+zip';

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
