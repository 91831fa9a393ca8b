// A section's text as it is written, for topicGeneration: kept on the topic row
// (draftSection, draftText) so a reconnecting client reads it first, written at most once
// per DRAFT_INTERVAL_MS per section (and once more at the section's end), each write
// announced like any change of the topic. Only the generation's own task writes it.
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import type { PubSub } from '../../platform/pubsub.js';
import { publishTopicUpdated } from './progress.js';

export const DRAFT_INTERVAL_MS = 50;

export interface SectionDraft {
  append(text: string): void;
  /** The stream broke and the section starts over on another deployment. */
  restart(): void;
  /** Writes what is pending (the section is done). */
  finish(): Promise<void>;
}

export function sectionDraft(
  topicId: string,
  taskId: string,
  order: number,
  pubsub: PubSub,
): SectionDraft {
  let text = '';
  let written: string | undefined;
  let lastWrite = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = () => {
    timer = undefined;
    if (text === written) return writing;
    const draftText = text;
    lastWrite = Date.now();
    writing = writing
      .then(async () => {
        const { count } = await db().topic.updateMany({
          where: { id: topicId, taskId, status: 'GENERATING' },
          data: { draftSection: order, draftText },
        });
        written = draftText;
        if (count) await publishTopicUpdated(pubsub, topicId);
      })
      .catch((err: unknown) => logger.warn({ err, topicId }, 'section draft not written'));
    return writing;
  };
  const schedule = () => {
    if (timer) return;
    const wait = DRAFT_INTERVAL_MS - (Date.now() - lastWrite);
    if (wait <= 0) void write();
    else timer = setTimeout(() => void write(), wait);
  };
  return {
    append(piece) {
      text += piece;
      schedule();
    },
    restart() {
      text = '';
      clearTimeout(timer);
      void write();
    },
    async finish() {
      clearTimeout(timer);
      await write();
    },
  };
}
