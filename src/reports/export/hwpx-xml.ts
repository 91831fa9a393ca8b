// XML text for the HWPX parts: the prolog, the OWPML namespaces Hangul declares, escaping.

export const XML_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>';

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
export const NS_DECLARATIONS = OWPML_NAMESPACES.map(
  ([prefix, uri]) => `xmlns:${prefix}="${uri}"`,
).join(' ');

// Characters XML 1.0 does not allow, and unpaired surrogates (not encodable in UTF-8).
export const INVALID_XML_CHARS =
  // eslint-disable-next-line no-control-regex -- the control characters XML 1.0 forbids are the point
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

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
