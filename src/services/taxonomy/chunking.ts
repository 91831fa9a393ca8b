// Splitting documents into searchable chunks: whole paragraphs where they fit, long
// paragraphs cut at sentence ends, and only a run-on text cut at a hard limit.
export const MAX_CHUNK_CHARS = 1_000;

function splitLongParagraph(paragraph: string, max: number): string[] {
  const sentences = paragraph.match(/[^.!?。！？]+[.!?。！？]*\s*/g) ?? [paragraph];
  const pieces: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (sentence.length > max) {
      if (current.trim()) pieces.push(current.trim());
      current = '';
      for (let i = 0; i < sentence.length; i += max) pieces.push(sentence.slice(i, i + max).trim());
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
