// A new template version as a webhook: template.version_created to the team's subscribed
// endpoints, after the version committed (creating, updating and forking each record one).
import { publicId } from '../../platform/public-ids.js';
import type { Caller } from '../auth/caller.js';
import { emitWebhookEvent, type EmitDeps } from '../webhooks/emit.js';

export type TemplateWebhookDeps = Omit<EmitDeps, 'tx'>;

export async function emitTemplateVersion(
  template: { id: string; teamId: string; name: string; version: number; changelog: string | null },
  caller: Caller,
  deps: TemplateWebhookDeps | undefined,
): Promise<void> {
  if (!deps) return;
  await emitWebhookEvent(
    {
      type: 'template.version_created',
      teamId: template.teamId,
      ownerId: caller.userId,
      data: {
        templateId: publicId('Template', template.id),
        name: template.name,
        version: template.version,
        changelog: template.changelog,
        createdBy: caller.userName,
      },
    },
    {},
    deps,
  );
}
