// The local writer (the default provider): deterministic and offline. Each section opens
// with what the plan says it covers, then quotes the agent's own retrieved chunks — the
// leading sentences of each — citing their document titles (extractive, no invention).
import type { Language } from '../planner/types.js';
import type { ReportWriter, SectionRequest } from './types.js';

const MAX_SENTENCES = 2;
const MAX_EXCERPT = 400;

/** Literal text inside Markdown: inline markers escaped, and nothing that starts a block. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_[\]<>~|]/g, '\\$&')
    .replace(/^([#+-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/** The first sentences of a chunk, clipped. */
export function excerpt(content: string): string {
  const text = content.replace(/\s+/g, ' ').trim();
  const sentences = text
    .split(/(?<=[.!?。])\s+/u)
    .slice(0, MAX_SENTENCES)
    .join(' ');
  const chars = [...sentences];
  return chars.length <= MAX_EXCERPT
    ? sentences
    : `${chars
        .slice(0, MAX_EXCERPT - 1)
        .join('')
        .trimEnd()}…`;
}

/** 을 after a final consonant, 를 after a vowel, 을(를) when the word does not end in Hangul. */
function objectParticle(word: string): string {
  const last = word.trim().at(-1);
  const code = last ? last.charCodeAt(0) - 0xac00 : -1;
  if (code < 0 || code > 11171) return '을(를)';
  return code % 28 === 0 ? '를' : '을';
}

const TEXT: Record<
  Language,
  { opening(title: string): string; cite(title: string): string; none: string }
> = {
  ko: {
    opening: (title) => `이 절에서는 ${title}${objectParticle(title)} 다룬다.`,
    cite: (title) => `(출처: 「${title}」)`,
    none: '이 절에 해당하는 지식 문서를 찾지 못해, 계획의 설명에 따라 작성되었다.',
  },
  en: {
    opening: (title) => `This section covers ${title}.`,
    cite: (title) => `(Source: "${title}")`,
    none: "No knowledge document matched this section; it follows the plan's description.",
  },
};

export function writeSectionLocally(request: SectionRequest): string[] {
  const text = TEXT[request.language];
  const { section } = request;
  const paragraphs = [escapeMarkdown(`${text.opening(section.title)} ${section.description}`)];
  for (const source of request.sources)
    paragraphs.push(
      `${escapeMarkdown(excerpt(source.content))} ${escapeMarkdown(text.cite(source.title))}`,
    );
  if (request.sources.length === 0) paragraphs.push(escapeMarkdown(text.none));
  return paragraphs;
}

export const localWriter: ReportWriter = {
  name: 'local',
  async *writeSection(request, signal) {
    for (const paragraph of writeSectionLocally(request)) {
      signal.throwIfAborted();
      yield `${paragraph}\n\n`;
    }
  },
};
