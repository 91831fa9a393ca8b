// A ReportWriter over an LLM chat: one streamed request per section, grounded in the
// section's retrieved chunks and aware of the whole approved plan.
import { localWriter } from './local.js';
import {
  LocalProviderChosen,
  type ChatClient,
  type ReportWriter,
  type SectionRequest,
} from './types.js';

const SECTION_MAX_TOKENS = 1_200;
const SOURCE_CHARS = 1_500;

export function sectionPrompt(request: SectionRequest): { system: string; user: string } {
  const language = request.language === 'ko' ? 'Korean' : 'English';
  const system = [
    'You write one section of a report, in Markdown.',
    'Do not write the section heading (it is added for you); use ### for sub-headings if you need them.',
    'Ground what you state in the sources given; cite a source by its title in parentheses, ' +
      'e.g. (출처: 「title」) or (Source: "title").',
    'If no source is given, write from the plan and say nothing you cannot support.',
    `Write in ${language}. No preamble, no closing remarks: only the section body.`,
  ].join('\n');
  const sources = request.sources.length
    ? request.sources
        .map(
          (source, index) =>
            `[${index + 1}] ${source.title}\n${source.content.slice(0, SOURCE_CHARS)}`,
        )
        .join('\n\n')
    : '(none)';
  const user = [
    `Report topic: ${request.topic}`,
    '',
    'Approved plan:',
    request.plan,
    '',
    `Write section ${request.section.order} of ${request.total}: ${request.section.title}`,
    `What it covers: ${request.section.description}`,
    '',
    'Sources:',
    sources,
  ].join('\n');
  return { system, user };
}

/** Drops a leading heading that repeats the section title, should the model write one anyway. */
function withoutOwnHeading(text: string, title: string): string {
  const match = /^\s*#{1,6}\s+(.+)\n+/.exec(text);
  if (match && match[1]!.replace(/^\d+[.)]\s*/, '').trim() === title.trim())
    return text.slice(match[0].length);
  return text;
}

/**
 * A ReportWriter over a (routed) chat. When the router picks the local provider the section
 * is written locally; when it restarts a broken stream elsewhere the section starts over
 * (request.onRestart tells the consumer to drop what it had).
 */
export function llmWriter(chat: ChatClient): ReportWriter {
  return {
    name: chat.name,
    async *writeSection(request, signal) {
      const { system, user } = sectionPrompt(request);
      // Hold back the start until it cannot be a repeated heading any more; stream the rest.
      let head = '';
      let started = false;
      const onRestart = () => {
        if (started) request.onRestart?.();
        head = '';
        started = false;
      };
      try {
        for await (const delta of chat.streamChat({
          system,
          user,
          maxTokens: SECTION_MAX_TOKENS,
          signal,
          call: request.call,
          onRestart,
          onMetered: request.onMetered,
        })) {
          if (started) {
            yield delta;
            continue;
          }
          head += delta;
          if (head.includes('\n') || head.length > 200) {
            started = true;
            yield withoutOwnHeading(head, request.section.title);
          }
        }
      } catch (error) {
        if (!(error instanceof LocalProviderChosen)) throw error;
        onRestart();
        let written = '';
        for await (const piece of localWriter.writeSection(request, signal)) {
          written += piece;
          yield piece;
        }
        error.metered?.(written);
        return;
      }
      if (!started && head) yield withoutOwnHeading(`${head}\n`, request.section.title).trimEnd();
    },
  };
}
