// A report's artifact: the Markdown and its exported files, saved before the topic's
// completion (which commits with its task's end). Keyed by what wrote it (a generation's task; a workflow's
// synthesis step), so a re-run replaces its artifact instead of adding a second one, as
// coverage history is keyed by task.
import type { Prisma } from '../../generated/prisma/client.js';
import { announceChanges } from '../../platform/changes.js';
import { db } from '../../platform/db.js';
import type { PlanSection } from '../../reports/planner/types.js';
import { EXPORT_FORMATS, type ExportedFile } from '../../reports/export/index.js';
import type { Caller } from '../auth/caller.js';
import { artifactVisibleTo } from '../auth/visibility.js';
import { rowIdWhere } from '../../platform/ids.js';
import { downloadFilename } from './download-names.js';

export interface ReportArtifact {
  topicId: string;
  taskId: string;
  markdown: string;
  files: ExportedFile[];
}

/**
 * Saves the artifact while the topic is still this run's (GENERATING with its task); false
 * (nothing saved) when the run was superseded. The topic completes with the task's end, in
 * the transaction that records it (completeTopicsOfTasks), so no reader ever sees a
 * COMPLETED topic whose task is still RUNNING.
 */
export async function saveArtifact(artifact: ReportArtifact): Promise<boolean> {
  const { topicId, taskId } = artifact;
  return db().$transaction(async (tx) => {
    const { count } = await tx.topic.updateMany({
      where: { id: topicId, taskId, status: 'GENERATING' },
      data: { progressPercent: 99, currentStep: 'saving' },
    });
    if (count === 0) return false;
    await replaceArtifact(tx, { ...artifact, id: taskId });
    return true;
  });
}

/** The topics of these completed report tasks, still theirs: COMPLETED; their ids. */
export async function completeTopicsOfTasks(
  tx: Prisma.TransactionClient,
  taskIds: readonly string[],
): Promise<string[]> {
  const rows = await tx.topic.updateManyAndReturn({
    where: { taskId: { in: [...taskIds] }, status: 'GENERATING' },
    data: {
      status: 'COMPLETED',
      progressPercent: 100,
      currentStep: 'completed',
      completedAt: new Date(),
      estimatedCompletion: null,
      errorMessage: null,
    },
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** The artifact `id` of the topic, replacing one of that id. */
function replaceArtifact(
  tx: Prisma.TransactionClient,
  artifact: { id: string; topicId: string; markdown: string; files: ExportedFile[] },
) {
  return tx.artifact.deleteMany({ where: { id: artifact.id } }).then(() =>
    tx.artifact.create({
      data: {
        id: artifact.id,
        topicId: artifact.topicId,
        markdown: artifact.markdown,
        files: {
          create: artifact.files.map((file) => ({
            format: file.format,
            contentType: file.contentType,
            filename: file.filename,
            bytes: file.data.byteLength,
            data: new Uint8Array(file.data),
          })),
        },
      },
    }),
  );
}

/** A report written elsewhere (a workflow's synthesis), saved as a COMPLETED topic of its team. */
export interface FinishedReport {
  /** The topic's and its artifact's id: saving again under it replaces both. */
  id: string;
  teamId: string;
  ownerId: string;
  /** Its title; past 200 characters it is cut, with an ellipsis. */
  topic: string;
  sections: PlanSection[];
  markdown: string;
  files: ExportedFile[];
}

const TOPIC_MAX = 200;

export async function saveFinishedReport(report: FinishedReport): Promise<void> {
  const chars = [...report.topic];
  const topic =
    chars.length > TOPIC_MAX ? `${chars.slice(0, TOPIC_MAX - 1).join('')}…` : report.topic;
  const row = {
    teamId: report.teamId,
    ownerId: report.ownerId,
    topic,
    sections: report.sections as unknown as Prisma.InputJsonValue,
    status: 'COMPLETED' as const,
    progressPercent: 100,
    currentStep: 'completed',
    completedAt: new Date(),
  };
  await db().$transaction(async (tx) => {
    await tx.topic.upsert({
      where: { id: report.id },
      create: { id: report.id, ...row },
      update: row,
    });
    await replaceArtifact(tx, { ...report, topicId: report.id });
  });
  await announceChanges({ kind: 'topic.created' }, { kind: 'topic.changed', topicId: report.id });
}

const FORMAT_ORDER: readonly string[] = EXPORT_FORMATS.map((entry) => entry.format);
export const byFormatOrder = (a: { format: string }, b: { format: string }) =>
  FORMAT_ORDER.indexOf(a.format) - FORMAT_ORDER.indexOf(b.format);

/** The file, if the artifact's topic is of a team of the caller; undefined for anyone else (a 404, not a 403). */
export async function findArtifactFileForCaller(
  artifactId: string,
  format: string,
  caller: Pick<Caller, 'isOperator' | 'roles'>,
) {
  const file = await db().artifactFile.findFirst({
    where: { artifactId: rowIdWhere(artifactId).id, format, artifact: artifactVisibleTo(caller) },
    select: {
      contentType: true,
      bytes: true,
      data: true,
      artifact: { select: { topic: { select: { topic: true } } } },
    },
  });
  if (!file) return undefined;
  const { artifact, ...rest } = file;
  return { ...rest, filename: downloadFilename(artifact.topic.topic, format) };
}
