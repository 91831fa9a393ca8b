// A report's artifact: the Markdown and its exported files, saved with the topic's
// completion in one transaction. Keyed by the task that wrote it (artifact id = task id),
// so a re-run of that task replaces its artifact instead of adding a second one, as
// coverage history is keyed by task.
import { db } from '../../platform/db.js';
import { EXPORT_FORMATS, type ExportedFile } from '../../reports/export/index.js';
import type { Caller } from '../auth/caller.js';
import { artifactVisibleTo } from '../auth/visibility.js';
import { rowIdWhere } from '../../platform/ids.js';

export interface ReportArtifact {
  topicId: string;
  taskId: string;
  markdown: string;
  files: ExportedFile[];
}

/** Saves the artifact and completes the topic; false (nothing saved) when the run was superseded. */
export async function saveArtifactAndComplete(artifact: ReportArtifact): Promise<boolean> {
  const { topicId, taskId } = artifact;
  return db().$transaction(async (tx) => {
    const { count } = await tx.topic.updateMany({
      where: { id: topicId, taskId, status: 'GENERATING' },
      data: {
        status: 'COMPLETED',
        progressPercent: 100,
        currentStep: 'completed',
        completedAt: new Date(),
        estimatedCompletion: null,
        errorMessage: null,
      },
    });
    if (count === 0) return false;
    await tx.artifact.deleteMany({ where: { id: taskId } });
    await tx.artifact.create({
      data: {
        id: taskId,
        topicId,
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
    });
    return true;
  });
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
    select: { contentType: true, filename: true, bytes: true, data: true },
  });
  return file ?? undefined;
}
