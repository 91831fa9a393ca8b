// The name a report file is saved under: the topic's title as written (Korean included) with
// the format's extension, minus what a file system or a header cannot take. The HTTP layer
// writes it per RFC 6266 / RFC 8187 with an ASCII fallback (asciiFallbackName).
import { EXPORT_FORMATS } from '../../reports/export/index.js';

/** Past this many characters the title is cut: file systems cap names near 255 bytes. */
const MAX_STEM_CHARACTERS = 100;

const extensionOf = (format: string) =>
  EXPORT_FORMATS.find((entry) => entry.format === format)?.extension ?? 'bin';

/**
 * The names Windows keeps for devices, whatever follows their first dot (`CON.docx` opens the
 * console): https://learn.microsoft.com/windows/win32/fileio/naming-a-file#naming-conventions
 */
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[1-9]|lpt[1-9])(?=\.|$)/i;

/**
 * `<title>.<extension>`: path separators and characters Windows refuses become `-`, control
 * and bidirectional-format characters go, spaces collapse, leading and trailing dots are
 * dropped (no hidden files, no `..`), a device name Windows keeps gets a `_` (`CON_`);
 * `report` when nothing is left.
 */
export function downloadFilename(title: string, format: string): string {
  const stem = [
    ...title
      .normalize('NFC')
      .replace(/\s+/g, ' ')
      .replace(/[\p{Cc}\p{Cf}]/gu, '')
      .replace(/[/\\<>:"|?*]/g, '-')
      .replace(/ {2,}/g, ' ')
      .replace(/^[\s.]+|[\s.]+$/g, ''),
  ]
    .slice(0, MAX_STEM_CHARACTERS)
    .join('')
    .trimEnd();
  return `${stem.replace(WINDOWS_DEVICE, '$&_') || 'report'}.${extensionOf(format)}`;
}

/**
 * For clients that read only `filename`: the name with accents dropped (`Café` → `Cafe`) when
 * that leaves printable ASCII, otherwise `report.<extension>` (a Korean title has no ASCII form).
 */
export function asciiFallbackName(filename: string): string {
  const ascii = filename.normalize('NFKD').replace(/\p{M}/gu, '');
  if (/^[\x20-\x7e]+$/.test(ascii)) return ascii;
  return `report.${/\.([A-Za-z0-9]+)$/.exec(filename)?.[1] ?? 'bin'}`;
}
