// A workflow's synthesis is saved as a report: a COMPLETED topic of the workflow's team with
// the artifact (Markdown, HWPX, DOCX), both keyed by the step (topic id = artifact id = step
// id), so a step that runs again replaces its artifact rather than adding one, and downloads
// and visibility work as for any report.
import type { Prisma } from '../../generated/prisma/client.js';
import { db } from '../../platform/db.js';
import type { ExportedFile } from '../../reports/export/index.js';
import type { PlanSection } from '../../reports/planner/types.js';

export interface WorkflowArtifact {
  stepId: string;
  teamId: string;
  ownerId: string;
  goal: string;
  sections: PlanSection[];
  markdown: string;
  files: ExportedFile[];
}

const TOPIC_MAX = 200;

export async function saveWorkflowArtifact(artifact: WorkflowArtifact): Promise<void> {
  const { stepId } = artifact;
  const chars = [...artifact.goal];
  const topic =
    chars.length > TOPIC_MAX ? `${chars.slice(0, TOPIC_MAX - 1).join('')}…` : artifact.goal;
  const row = {
    teamId: artifact.teamId,
    ownerId: artifact.ownerId,
    topic,
    sections: artifact.sections as unknown as Prisma.InputJsonValue,
    status: 'COMPLETED' as const,
    progressPercent: 100,
    currentStep: 'completed',
    completedAt: new Date(),
  };
  await db().$transaction(async (tx) => {
    await tx.topic.upsert({ where: { id: stepId }, create: { id: stepId, ...row }, update: row });
    await tx.artifact.deleteMany({ where: { id: stepId } });
    await tx.artifact.create({
      data: {
        id: stepId,
        topicId: stepId,
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
  });
}
