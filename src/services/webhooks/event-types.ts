// The events a team's webhook endpoints subscribe to, by the dotted names receivers see in
// each body's `type` (Standard Webhooks' `type` convention: `<group>.<event>`).
import { BadInputError } from '../../platform/errors.js';

export const WEBHOOK_EVENT_TYPES = [
  'task.completed',
  'task.failed',
  'task.dead',
  'report.completed',
  'report.failed',
  'workflow.completed',
  'workflow.failed',
  'template.version_created',
  'budget.threshold',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const KNOWN: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** The types, de-duplicated, or BAD_USER_INPUT naming `eventTypes` and the unknown ones. */
export function checkEventTypes(types: readonly string[]): WebhookEventType[] {
  const unknown = types.filter((type) => !KNOWN.has(type));
  if (unknown.length)
    throw new BadInputError(
      `eventTypes: unknown ${unknown.join(', ')} (known: ${WEBHOOK_EVENT_TYPES.join(', ')})`,
      { field: 'eventTypes', unknown },
      'eventTypes',
    );
  if (types.length === 0)
    throw new BadInputError(
      'eventTypes must name at least one',
      { field: 'eventTypes' },
      'eventTypes',
    );
  return [...new Set(types)] as WebhookEventType[];
}
