// The feed behind taskProgress: a task's event log, followed live (log-feed.ts).
//
// The feed follows the log in PostgreSQL. A notification says "look again", so a lost one
// (Redis down, at-most-once delivery) delays an event by at most one poll interval and
// never loses it; sequences make replays gap- and duplicate-free. One TaskFeed per API
// process watches each followed task once: one pub/sub subscription and at most one
// database read per change, however many clients follow it. A worker's notification
// carries a copy of the committed event it announces; when that is the next event the feed
// expects, it is delivered without reading it back. The current state first (the latest
// event), or every event after `afterSequence`; the feed ends after a terminal event.
import type { PubSub } from '../platform/pubsub.js';
import { selectLatestTaskEvent } from '../queue/latest-task-event.js';
import { selectTaskEventsAfter, TASK_EVENT_PAGE, type TaskEventRow } from '../queue/task-events.js';
import { selectTaskLogPosition } from '../queue/task-log-position.js';
import { isTerminal } from '../queue/task-row.js';
import { LogFeed, type LogSource } from './log-feed.js';

export type { TaskEventRow };

const taskLog: LogSource<TaskEventRow, 'taskEvents'> = {
  topic: 'taskEvents',
  async position(taskId) {
    const position = await selectTaskLogPosition(taskId);
    return position && { lastSequence: position.lastSequence, ended: isTerminal(position.status) };
  },
  current: selectLatestTaskEvent,
  after: selectTaskEventsAfter,
  page: TASK_EVENT_PAGE,
  isEnd: (event) => isTerminal(event.status),
  fromNotification(taskId, { event }) {
    if (!event || event.taskId !== taskId) return undefined;
    const { sequence, status, progressPercent, currentStep, message, at } = event;
    return { taskId, sequence, status, progressPercent, currentStep, message, at: new Date(at) };
  },
};

/** The task feed of one API process. */
export class TaskFeed extends LogFeed<TaskEventRow, 'taskEvents'> {
  constructor(pubsub: PubSub, pollMs = 1_000) {
    super(pubsub, taskLog, pollMs);
  }
}
