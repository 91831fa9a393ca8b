// The queue's pub/sub signals, sent after a change has committed. Signals say "look again":
// subscribers read the event log and workers poll, so a lost one costs a poll interval.
import type { PubSub, PushedCancellation, TaskEventJson } from '../platform/pubsub.js';

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
 * Running tasks were asked to stop: their workers abort them now rather than at their next
 * heartbeat. `sequence`: a task's log position once the request was written; unset, the push
 * concerns whichever run of the task a worker holds (a worker's own, about the run it holds).
 * Tasks cancelled together go in one message (see `taskCancel` in src/platform/pubsub.ts).
 */
export function pushCancellations(
  pubsub: PubSub,
  tasks: ReadonlyArray<PushedCancellation>,
): Promise<void> {
  if (tasks.length === 0) return Promise.resolve();
  return pubsub.publish('taskCancel', 'workers', {
    tasks: tasks.map(({ taskId, sequence }) =>
      sequence === undefined ? { taskId } : { taskId, sequence },
    ),
  });
}

/** One running task was asked to stop (see pushCancellations). */
export function pushCancellation(pubsub: PubSub, taskId: string, sequence?: number): Promise<void> {
  return pushCancellations(pubsub, [{ taskId, sequence }]);
}
