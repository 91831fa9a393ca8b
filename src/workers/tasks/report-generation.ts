// report_generation (seed 004 /generate, in the background): writes the topic's report
// section by section through the configured provider, exports it (Markdown, HWPX, DOCX)
// and saves the artifact. Steps: starting → writing section k of n → exporting → saving →
// completed, on both the task (reportProgress) and the topic row (+ topicUpdated).
// Idempotent per task: the artifact is keyed by the task, so a re-run replaces it.
import { z } from 'zod';
import { db } from '../../db.js';
import { exportReport } from '../../reports/export/index.js';
import { languageOf } from '../../reports/planner/types.js';
import { escapeMarkdown } from '../../reports/providers/local.js';
import { ProviderError, type SectionSource } from '../../reports/providers/types.js';
import { toGlobalId } from '../../resolvers/ids.js';
import { saveArtifactAndComplete } from '../../resolvers/topic-artifacts.js';
import { sectionSources } from '../../resolvers/topic-knowledge.js';
import { failTopicRun, publishTopicUpdated, recordTopicStep, startTopicRun } from '../../resolvers/topic-progress.js';
import { parseSections } from '../../resolvers/topic-sections.js';
import { topicSettings } from '../../resolvers/topic-settings.js';
import { defineTask, NonRetryableError, payloadParser, type TaskHelpers } from '../task-definition.js';

const payloadSchema = z.object({ topicId: z.string().uuid() });

/** Progress bands: sections fill 5–85 %, export and save the rest. */
const WRITING_FROM = 5;
const WRITING_TO = 85;

class Superseded extends NonRetryableError {}

const REFERENCES = { ko: '참고 문헌', en: 'References' } as const;

async function generate(topicId: string, helpers: TaskHelpers) {
  const { task, signal, pubsub } = helpers;
  const topic = await db().topic.findUnique({
    where: { id: topicId },
    select: { id: true, topic: true, plan: true, sections: true, agentId: true, taskId: true },
  });
  if (!topic) throw new NonRetryableError('the topic was deleted');
  if (topic.taskId !== task.id) throw new Superseded('superseded by a newer generation of this topic');
  const sections = parseSections(topic.sections);
  if (sections.length === 0) throw new NonRetryableError('the plan has no sections');
  const settings = await topicSettings();
  const language = languageOf(topic.topic);
  const runStarted = Date.now();

  const step = async (percent: number, currentStep: string) => {
    helpers.reportProgress(percent, currentStep);
    // Extrapolated from the work done so far once there is some.
    const elapsed = Date.now() - runStarted;
    const estimatedCompletion = percent > WRITING_FROM ? new Date(Date.now() + (elapsed * (100 - percent)) / percent) : undefined;
    if (!(await recordTopicStep(topic.id, task.id, { progressPercent: Math.round(percent), currentStep, estimatedCompletion }, pubsub))) {
      throw new Superseded('the topic is no longer generating for this task');
    }
  };

  if (!(await startTopicRun(topic.id, task.id, pubsub))) throw new Superseded('superseded by a newer generation of this topic');
  await step(2, 'starting');

  const parts = [`# ${escapeMarkdown(topic.topic)}`];
  const usedChunks = new Set<string>();
  const cited = new Map<string, string>();
  for (const [index, section] of sections.entries()) {
    signal.throwIfAborted();
    await step(WRITING_FROM + ((WRITING_TO - WRITING_FROM) * index) / sections.length, `writing section ${index + 1} of ${sections.length}: ${section.title}`);
    const sources: SectionSource[] = topic.agentId ? await sectionSources(topic.agentId, topic.topic, section, usedChunks) : [];
    for (const source of sources) cited.set(source.documentId, source.title);
    let body = '';
    const request = { topic: topic.topic, language, plan: topic.plan ?? '', section, total: sections.length, sources };
    for await (const piece of settings.writer.writeSection(request, signal)) body += piece;
    parts.push(`## ${section.order}. ${escapeMarkdown(section.title)}`, body.trim());
  }
  if (cited.size) parts.push(`## ${REFERENCES[language]}`, [...cited.values()].map((title) => `- ${escapeMarkdown(title)}`).join('\n'));
  const markdown = `${parts.filter(Boolean).join('\n\n')}\n`;

  await step(88, 'exporting');
  const files = await exportReport(markdown, { title: topic.topic, createdAt: new Date() });
  signal.throwIfAborted();
  await step(95, 'saving');
  if (!(await saveArtifactAndComplete({ topicId: topic.id, taskId: task.id, markdown, files }))) {
    throw new Superseded('the topic is no longer generating for this task');
  }
  await publishTopicUpdated(pubsub, topic.id);
  return {
    artifactId: toGlobalId('Artifact', task.id),
    sections: sections.length,
    provider: settings.writer.name,
    files: files.map((file) => ({ format: file.format, bytes: file.data.byteLength })),
  };
}

export const reportGeneration = defineTask({
  type: 'report_generation',
  timeoutSeconds: 600,
  maxAttempts: 3,
  parsePayload: payloadParser(payloadSchema),
  async run({ topicId }, helpers) {
    const { task, signal, pubsub, logger } = helpers;
    try {
      return await generate(topicId, helpers);
    } catch (caught) {
      // A provider's refusal (bad key, unknown model) will not pass on a retry.
      const error = caught instanceof ProviderError && !caught.retryable ? new NonRetryableError(caught.message) : caught;
      const message = error instanceof Error ? error.message : String(error);
      // Cancel, timeout, lost lease and shutdown are the engine's to record (the after-finish hook fails the topic).
      if (!signal.aborted && !(error instanceof Superseded)) {
        const last = error instanceof NonRetryableError || task.attempts >= task.maxAttempts;
        logger.warn({ err: message, last }, 'report generation attempt failed');
        // Never hides the error itself: the after-finish hook and the sweep fail the topic too.
        await (last
          ? failTopicRun(topicId, task.id, `report generation failed: ${message}`, pubsub)
          : recordTopicStep(topicId, task.id, { progressPercent: 0, currentStep: `attempt ${task.attempts} failed; retrying: ${message}`.slice(0, 500) }, pubsub)
        ).catch((err) => logger.warn({ err: (err as Error).message }, 'could not record the failure on the topic'));
      }
      throw error;
    }
  },
});
