// Splitting documents into searchable chunks: whole paragraphs where they fit, long
// paragraphs cut at sentence ends, and only a run-on text cut at a hard limit: at its last
// space before the limit (a word stays whole, so a search for it finds it), else at the limit,
// but never between the two halves of a character outside the BMP (an emoji).
export const MAX_CHUNK_CHARS = 1_000;

/** Where to cut `text` (longer than `max`): after its last whitespace in the window's second half, else at `max`. */
function cutAt(text: string, max: number): number {
  for (let i = max; i > max / 2; i--) if (/\s/.test(text[i]!)) return i;
  const code = text.charCodeAt(max - 1);
  // A high surrogate: its low half would start the next piece, each half a U+FFFD once stored.
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

/** A run-on sentence in pieces of at most `max` characters, cut at cutAt. */
function cutRunOn(sentence: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = sentence;
  while (rest.length > max) {
    const cut = cutAt(rest, max);
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut);
  }
  pieces.push(rest.trim());
  return pieces.filter(Boolean);
}

function splitLongParagraph(paragraph: string, max: number): string[] {
  const sentences = paragraph.match(/[^.!?。！？]+[.!?。！？]*\s*/g) ?? [paragraph];
  const pieces: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (sentence.length > max) {
      if (current.trim()) pieces.push(current.trim());
      current = '';
      pieces.push(...cutRunOn(sentence, max));
      continue;
    }
    if ((current + sentence).length > max && current.trim()) {
      pieces.push(current.trim());
      current = '';
    }
    current += sentence;
  }
  if (current.trim()) pieces.push(current.trim());
  return pieces.filter(Boolean);
}

export function chunkText(content: string, max = MAX_CHUNK_CHARS): string[] {
  const paragraphs = content
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  const chunks: string[] = [];
  let current = '';
  for (const paragraph of paragraphs) {
    const parts = paragraph.length > max ? splitLongParagraph(paragraph, max) : [paragraph];
    for (const part of parts) {
      if (current && current.length + 2 + part.length > max) {
        chunks.push(current);
        current = '';
      }
      current = current ? `${current}\n\n${part}` : part;
    }
  }
  if (current) chunks.push(current);
  return chunks;
}
