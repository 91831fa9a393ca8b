// The HWPX package's parts besides header and section: Contents/content.hpf (OPF metadata,
// manifest, spine), version.xml, the META-INF files, settings.xml and the preview text.
import type { Paragraph } from './hwpx-section.js';
import { escapeXml, INVALID_XML_CHARS, NS_DECLARATIONS, XML_PROLOG } from './hwpx-xml.js';
import type { ReportMeta } from './report-meta.js';

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function contentHpfXml(meta: ReportMeta): string {
  const created = isoSeconds(meta.createdAt);
  const localDate = meta.createdAt.toLocaleString('ko-KR', {
    timeZone: 'Asia/Seoul',
    dateStyle: 'full',
    timeStyle: 'medium',
  });
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

export const VERSION_XML =
  XML_PROLOG +
  // Sic: the attribute is "tagetApplication" in OWPML.
  `<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" ` +
  `tagetApplication="WORDPROCESSOR" major="5" minor="0" micro="5" buildNumber="0" os="1" ` +
  `xmlVersion="1.4" application="agent-growth report export" appVersion="1.0"/>`;

export const CONTAINER_XML =
  XML_PROLOG +
  `<ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container" ` +
  `xmlns:hpf="http://www.hancom.co.kr/schema/2011/hpf">` +
  `<ocf:rootfiles>` +
  `<ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/>` +
  `<ocf:rootfile full-path="Preview/PrvText.txt" media-type="text/plain"/>` +
  `</ocf:rootfiles>` +
  `</ocf:container>`;

export const MANIFEST_XML =
  XML_PROLOG + `<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>`;

export const SETTINGS_XML =
  XML_PROLOG +
  `<ha:HWPApplicationSetting xmlns:ha="http://www.hancom.co.kr/hwpml/2011/app" ` +
  `xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0">` +
  `<ha:CaretPosition listIDRef="0" paraIDRef="0" pos="0"/>` +
  `</ha:HWPApplicationSetting>`;

/** The preview text Hangul shows in file pickers: the first ~1000 characters, CRLF lines. */
export function previewText(paragraphs: Paragraph[]): string {
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
