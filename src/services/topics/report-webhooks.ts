// A report generation's end as webhooks: report.completed (the topic, the artifact and its
// downloads) or report.failed (the error), on every terminal state, to the team's subscribed
// endpoints, the endpoint generateTopicReport named and its raw webhookUrl.
import { publicId } from '../../platform/public-ids.js';
import type { ClaimedTaskRow } from '../../queue/task-row.js';
import { emitWebhookEvent, type EmitDeps } from '../webhooks/emit.js';

interface ReportPayload {
  topicId: string;
  webhookUrl?: string | null;
  webhookEndpointId?: string | null;
}

interface ReportResult {
  artifactId?: string;
  files?: Array<{ format: string; bytes: number }>;
}

/**
 * Relative to the API's origin; opened with a key of the topic's team (a signed link would
 * expire before a receiver that retries for hours fetched it).
 */
const downloadPath = (artifactId: string, format: string) =>
  `/artifacts/${encodeURIComponent(artifactId)}/${encodeURIComponent(format)}`;

export async function emitReportEnded(
  task: ClaimedTaskRow,
  deps: Omit<EmitDeps, 'tx'>,
): Promise<void> {
  if (!task.ownerId) return;
  const payload = task.payload as unknown as ReportPayload;
  const completed = task.status === 'COMPLETED';
  const result = (completed ? task.result : null) as ReportResult | null;
  const artifactId = result?.artifactId ?? null;
  await emitWebhookEvent(
    {
      type: completed ? 'report.completed' : 'report.failed',
      teamId: task.teamId,
      ownerId: task.ownerId,
      data: {
        topicId: publicId('Topic', payload.topicId),
        taskId: publicId('Task', task.id),
        status: task.status,
        artifactId,
        formats: (result?.files ?? []).map((file) => file.format),
        downloads: (result?.files ?? []).map((file) => ({
          format: file.format,
          bytes: file.bytes,
          path: downloadPath(artifactId!, file.format),
        })),
        error: completed ? null : task.error,
        completedAt: task.completedAt?.toISOString() ?? null,
      },
    },
    {
      endpointId: payload.webhookEndpointId ?? null,
      url: payload.webhookUrl ?? null,
      // generateTopicReport's own URL: its attempts are listed on the generation's task.
      taskId: task.id,
    },
    deps,
  );
}
