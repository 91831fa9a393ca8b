// report_generation: writes the topic's report
// section by section through the configured provider, exports it (Markdown, HWPX, DOCX)
// and saves the artifact. Steps: starting → writing section k of n → exporting → saving →
// completed, on both the task (reportProgress) and the topic row (+ topicUpdated).
// Idempotent per task: the artifact is keyed by the task, so a re-run replaces it.
import { z } from 'zod';
import { db } from '../../../platform/db.js';
import { taskSpec } from '../../../queue/task-spec.js';
import { attemptsSpent } from '../../../queue/task-row.js';
import { publicId } from '../../../platform/public-ids.js';
import { exportReport } from '../../../reports/export/index.js';
import { languageOf, type PlanSection } from '../../../reports/planner/types.js';
import { escapeMarkdown } from '../../../reports/writers/local.js';
import { RateLimitedError } from '../../../platform/errors.js';
import {
  ProviderError,
  type ReportWriter,
  type SectionRequest,
} from '../../../reports/writers/types.js';
import { saveArtifact } from '../artifacts.js';
import { sectionDraft } from '../drafts.js';
import { sectionSources } from '../knowledge.js';
import {
  endTopicsOfTasks,
  failTopicOfEndedTask,
  recordTopicStep,
  startTopicRun,
} from '../progress.js';
import { parseSections } from '../sections.js';
import {
  defineTask,
  NonRetryableError,
  RetryLaterError,
  type TaskHelpers,
} from '../../../queue/task-definition.js';
import { readableTeamsOfKey } from '../../auth/key-readers.js';
import type { EmitDeps } from '../../webhooks/emit.js';
import { emitReportEnded } from '../report-webhooks.js';

export const reportGeneration = taskSpec({
  name: 'report_generation',
  // apiKeyId: the key that asked (its LLM budget applies to the sections); absent in older tasks.
  // webhookUrl, webhookEndpointId: where generateTopicReport asked its end to be sent.
  payload: z.object({
    topicId: z.guid(),
    apiKeyId: z.guid().nullable().optional(),
    webhookUrl: z.string().nullable().optional(),
    webhookEndpointId: z.guid().nullable().optional(),
  }),
  maxAttempts: 3,
  timeoutSeconds: 600,
});

/**
 * The raw URL generateTopicReport asked a generation's end to be posted to: it rides in the
 * task's payload, not in its `webhookUrl` column (the task's own outcome would be posted there
 * too).
 */
export function reportWebhookUrl(task: { type: string; payload: unknown }): string | null {
  if (task.type !== reportGeneration.name) return null;
  const payload = reportGeneration.payload.safeParse(task.payload);
  return payload.success ? (payload.data.webhookUrl ?? null) : null;
}

/** Progress bands: sections fill 5–85 %, export and save the rest. */
const WRITING_FROM = 5;
const WRITING_TO = 85;

class Superseded extends NonRetryableError {}

const REFERENCES = { ko: '참고 문헌', en: 'References' } as const;

interface TopicToWrite {
  id: string;
  teamId: string;
  topic: string;
  plan: string | null;
  agentId: string | null;
  sections: PlanSection[];
}

async function loadTopic(topicId: string, taskId: string): Promise<TopicToWrite> {
  const topic = await db().topic.findUnique({
    where: { id: topicId },
    select: {
      id: true,
      teamId: true,
      topic: true,
      plan: true,
      sections: true,
      agentId: true,
      taskId: true,
    },
  });
  if (!topic) throw new NonRetryableError('the topic was deleted');
  if (topic.taskId !== taskId)
    throw new Superseded('superseded by a newer generation of this topic');
  const sections = parseSections(topic.sections);
  if (sections.length === 0) throw new NonRetryableError('the plan has no sections');
  return { ...topic, sections };
}

/** A step on the task and on the topic, with an estimate extrapolated from the work done so far. */
function stepper(topic: TopicToWrite, helpers: TaskHelpers) {
  const runStarted = Date.now();
  return async (percent: number, currentStep: string) => {
    helpers.reportProgress(percent, currentStep);
    const elapsed = Date.now() - runStarted;
    const estimatedCompletion =
      percent > WRITING_FROM
        ? new Date(Date.now() + (elapsed * (100 - percent)) / percent)
        : undefined;
    const step = { progressPercent: Math.round(percent), currentStep, estimatedCompletion };
    if (!(await recordTopicStep(topic.id, helpers.task.id, step, helpers.pubsub))) {
      throw new Superseded('the topic is no longer generating for this task');
    }
  };
}

/** The report's Markdown: a heading per section, each written from the agent's sources, then the references. */
/** One section's body, streamed to topicGeneration as it comes; a restarted stream starts it over. */
async function writeSection(
  topic: TopicToWrite,
  writer: ReportWriter,
  helpers: TaskHelpers,
  request: Omit<SectionRequest, 'call' | 'onRestart'>,
  apiKeyId: string | null,
): Promise<string> {
  const draft = sectionDraft(topic.id, helpers.task.id, request.section.order, helpers.pubsub);
  let body = '';
  const call = { teamId: topic.teamId, apiKeyId, topicId: topic.id, taskId: helpers.task.id };
  const onRestart = () => {
    body = '';
    draft.restart();
  };
  for await (const piece of writer.writeSection({ ...request, call, onRestart }, helpers.signal)) {
    body += piece;
    draft.append(piece);
  }
  await draft.finish();
  return body;
}

async function writeMarkdown(
  topic: TopicToWrite,
  writer: ReportWriter,
  helpers: TaskHelpers,
  step: ReturnType<typeof stepper>,
  apiKeyId: string | null,
): Promise<string> {
  const language = languageOf(topic.topic);
  const { sections } = topic;
  const parts = [`# ${escapeMarkdown(topic.topic)}`];
  const usedChunks = new Set<string>();
  const cited = new Map<string, string>();
  // The sources the key that asked may read now (not a team it left, nor through a clone).
  const readable = await readableTeamsOfKey(apiKeyId);
  for (const [index, section] of sections.entries()) {
    helpers.signal.throwIfAborted();
    await step(
      WRITING_FROM + ((WRITING_TO - WRITING_FROM) * index) / sections.length,
      `writing section ${index + 1} of ${sections.length}: ${section.title}`,
    );
    const sources = topic.agentId
      ? await sectionSources(topic.agentId, topic.topic, section, usedChunks, readable)
      : [];
    for (const source of sources) cited.set(source.documentId, source.title);
    const request = {
      topic: topic.topic,
      language,
      plan: topic.plan ?? '',
      section,
      total: sections.length,
      sources,
    };
    const body = await writeSection(topic, writer, helpers, request, apiKeyId);
    parts.push(`## ${section.order}. ${escapeMarkdown(section.title)}`, body.trim());
  }
  if (cited.size)
    parts.push(
      `## ${REFERENCES[language]}`,
      [...cited.values()].map((title) => `- ${escapeMarkdown(title)}`).join('\n'),
    );
  return `${parts.filter(Boolean).join('\n\n')}\n`;
}

async function generate(
  { topicId, apiKeyId }: { topicId: string; apiKeyId?: string | null },
  writer: ReportWriter,
  helpers: TaskHelpers,
) {
  const { task, signal, pubsub } = helpers;
  const topic = await loadTopic(topicId, task.id);
  const step = stepper(topic, helpers);
  if (!(await startTopicRun(topic.id, task.id, pubsub)))
    throw new Superseded('superseded by a newer generation of this topic');
  await step(2, 'starting');
  const markdown = await writeMarkdown(topic, writer, helpers, step, apiKeyId ?? null);
  await step(88, 'exporting');
  const files = await exportReport(markdown, { title: topic.topic, createdAt: new Date() });
  signal.throwIfAborted();
  await step(95, 'saving');
  if (!(await saveArtifact({ topicId: topic.id, taskId: task.id, markdown, files })))
    throw new Superseded('the topic is no longer generating for this task');
  return {
    // The result is JSON clients read (Task.result, the webhook): the id they know it by.
    artifactId: publicId('Artifact', task.id),
    sections: topic.sections.length,
    provider: writer.name,
    files: files.map((file) => ({ format: file.format, bytes: file.data.byteLength })),
  };
}

/**
 * Records a failed attempt that will be retried on the topic (the step says so). The last
 * attempt's failure is the engine's to record: the topic fails with its task's end. Runs
 * that lost their lease or were postponed spent no attempt (the engine's count, write-changes.ts),
 * and a postponed run is not the last one (a task whose postponements ran out ends DEAD, and
 * the topic fails with it).
 */
async function recordFailure(topicId: string, error: unknown, helpers: TaskHelpers): Promise<void> {
  const { task, pubsub, logger } = helpers;
  const message = error instanceof Error ? error.message : String(error);
  const last =
    error instanceof NonRetryableError ||
    (!(error instanceof RetryLaterError) && attemptsSpent(task) >= task.maxAttempts);
  logger.warn({ err: message, last }, 'report generation attempt failed');
  if (last) return;
  await recordTopicStep(
    topicId,
    task.id,
    {
      progressPercent: 0,
      currentStep: `attempt ${task.attempts} failed; retrying: ${message}`.slice(0, 500),
    },
    pubsub,
  ).catch((err) =>
    logger.warn({ err: (err as Error).message }, 'could not record the failure on the topic'),
  );
}

/** `settings.writer` is read at each run: the configured text provider. */
export function reportGenerationTask(
  settings: { writer: ReportWriter },
  webhookDeps: Omit<EmitDeps, 'tx' | 'pubsub'> = {},
) {
  return defineTask(reportGeneration, {
    async run(payload, helpers) {
      const { topicId } = payload;
      try {
        return await generate(payload, settings.writer, helpers);
      } catch (caught) {
        // A provider's refusal (bad key, unknown model) will not pass on a retry.
        // So will a budget that is spent.
        // Every deployment of the route cooling down: retried once the first cooldown ends,
        // not at once into the same refusal.
        const error =
          (caught instanceof ProviderError && !caught.retryable) ||
          caught instanceof RateLimitedError
            ? new NonRetryableError(caught.message)
            : caught instanceof ProviderError && caught.detail.cooldownEndsInMs !== undefined
              ? new RetryLaterError(caught.message, caught.detail.cooldownEndsInMs)
              : caught;
        // Cancel, timeout, lost lease and shutdown are the engine's to record (the after-finish step fails the topic).
        if (!helpers.signal.aborted && !(error instanceof Superseded))
          await recordFailure(topicId, error, helpers);
        throw error;
      }
    },
    // The topic ends with its task, in the transaction that records the end.
    finishInTransaction: endTopicsOfTasks,
    // Ends outside that transaction (dead-lettered, cancelled before it ran); then, on every
    // end, the report's webhooks.
    async onFinished(task, pubsub) {
      await failTopicOfEndedTask(task, pubsub);
      await emitReportEnded(task, { ...webhookDeps, pubsub });
    },
  });
}
