// The queue's pub/sub signals, sent after a change has committed. Signals say "look again":
// subscribers read the event log and workers poll, so a lost one costs a poll interval.
import type { PubSub, TaskEventJson } from '../platform/pubsub.js';

type AnnouncedTask = { id: string; lastSequence: number; event?: TaskEventJson };

/** The taskEvents message of a task whose log grew to `lastSequence`, with its event's copy when there is one. */
const taskEventSignal = ({ id, lastSequence, event }: AnnouncedTask) =>
  event ? { taskId: id, sequence: lastSequence, event } : { taskId: id, sequence: lastSequence };

/** A task's event log grew to `lastSequence`; `event` is a copy of that event when the statement returned it. */
export function announceTaskEvent(pubsub: PubSub, task: AnnouncedTask): Promise<void> {
  return pubsub.publish('taskEvents', task.id, taskEventSignal(task));
}

/** announceTaskEvent for many tasks at once (a worker's turn), in as few round trips as the pub/sub allows. */
export function announceTaskEvents(pubsub: PubSub, tasks: readonly AnnouncedTask[]): Promise<void> {
  return pubsub.publishMany(
    'taskEvents',
    tasks.map((task) => [task.id, taskEventSignal(task)]),
  );
}

/** A task of `type` became runnable: idle workers claim sooner than their poll. */
export function wakeWorkers(pubsub: PubSub, type: string): Promise<void> {
  return pubsub.publish('taskReady', 'queue', { type });
}

/**
 * A running task was asked to stop: its worker aborts it now rather than at its next heartbeat.
 * `sequence`: the task's log position once the request was written; unset, the push concerns
 * whichever run of the task a worker holds (a worker's own, about the run it holds).
 */
export function pushCancellation(pubsub: PubSub, taskId: string, sequence?: number): Promise<void> {
  return pubsub.publish(
    'taskCancel',
    'workers',
    sequence === undefined ? { taskId } : { taskId, sequence },
  );
}
