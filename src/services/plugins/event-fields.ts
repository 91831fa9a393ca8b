// What `event.*` a plugin's templates may use, by event type: the fields of the body the
// webhook endpoints system sends (`data`), the envelope's type and timestamp, and for report
// events the topic they are about (`event.topic.title`; its Markdown with data:topic.markdown).
// `event.type` is the event's type; a task event's own task type is `event.taskType`.
import type { WebhookEventType } from '../webhooks/event-types.js';

const TASK = [
  'taskId',
  'agentId',
  'topicId',
  'status',
  'result',
  'error',
  'completedAt',
  'taskType',
];
const REPORT = [
  'topicId',
  'taskId',
  'status',
  'artifactId',
  'formats',
  'downloads',
  'error',
  'completedAt',
  'topic.id',
  'topic.title',
  'topic.markdown',
];
const WORKFLOW = ['workflowId', 'goal', 'status', 'error', 'failedSteps', 'completedAt'];

export const EVENT_FIELDS: Record<WebhookEventType, readonly string[]> = {
  'task.completed': TASK,
  'task.failed': TASK,
  'task.dead': TASK,
  'report.completed': REPORT,
  'report.failed': REPORT,
  'workflow.completed': WORKFLOW,
  'workflow.failed': WORKFLOW,
  'template.version_created': ['templateId', 'name', 'version', 'changelog', 'createdBy'],
  'budget.threshold': [
    'budgetId',
    'scope',
    'teamId',
    'apiKeyId',
    'limitUsd',
    'softLimitPercent',
    'spentUsd',
    'period',
    'windowStart',
  ],
};

/** Every event has these. */
export const ENVELOPE_FIELDS = ['type', 'timestamp'];

/** The one field that needs its own scope. */
export const TOPIC_MARKDOWN = 'topic.markdown';

/** Whether `field` (after `event.`) is one of these event types'. */
export const eventHasField = (types: Iterable<string>, field: string) =>
  ENVELOPE_FIELDS.includes(field) ||
  [...types].some((type) =>
    EVENT_FIELDS[type as WebhookEventType]?.some(
      (known) => field === known || field.startsWith(`${known}.`),
    ),
  );

/** A made-up event of the type, as testPlugin sends it. */
export function sampleEventData(type: WebhookEventType): Record<string, unknown> {
  const now = new Date().toISOString();
  if (type.startsWith('task.'))
    return {
      taskId: 'sample-task',
      agentId: null,
      topicId: null,
      status: type === 'task.completed' ? 'COMPLETED' : type === 'task.dead' ? 'DEAD' : 'FAILED',
      result: type === 'task.completed' ? { sample: true } : null,
      error: type === 'task.completed' ? null : 'a sample failure',
      completedAt: now,
      type: 'sample_task',
    };
  if (type.startsWith('report.'))
    return {
      topicId: 'sample-topic',
      taskId: 'sample-task',
      status: type === 'report.completed' ? 'COMPLETED' : 'FAILED',
      artifactId: type === 'report.completed' ? 'sample-artifact' : null,
      formats: type === 'report.completed' ? ['markdown'] : [],
      downloads: [],
      error: type === 'report.completed' ? null : 'a sample failure',
      completedAt: now,
      topic: {
        id: 'sample-topic',
        title: 'A sample report',
        markdown: '# A sample report\n\nThis is a test event.\n',
      },
    };
  if (type.startsWith('workflow.'))
    return {
      workflowId: 'sample-workflow',
      goal: 'A sample goal',
      status: type === 'workflow.completed' ? 'SUCCEEDED' : 'FAILED',
      error: type === 'workflow.completed' ? null : 'a sample failure',
      failedSteps: [],
      completedAt: now,
    };
  if (type === 'template.version_created')
    return {
      templateId: 'sample-template',
      name: 'A sample template',
      version: 2,
      changelog: 'a sample change',
      createdBy: 'sample-user',
    };
  return {
    budgetId: 'sample-budget',
    scope: 'TEAM',
    teamId: 'sample-team',
    apiKeyId: null,
    limitUsd: 100,
    softLimitPercent: 80,
    spentUsd: 81,
    period: 'MONTH',
    windowStart: now,
  };
}
