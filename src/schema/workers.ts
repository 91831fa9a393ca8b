// workers: the operator's list of worker processes, alive and stopped, with their slots and
// the tasks they run (docs/operations.md#workers).
import { builder } from './builder.js';
import { toGlobalId } from './ids.js';
import type { RunningTaskRow } from '../services/workers/sql/select-running-tasks.js';
import { listWorkers, type WorkerView } from '../services/workers/workers.js';

const WorkerTask = builder.objectRef<RunningTaskRow>('WorkerTask').implement({
  description: 'A task a worker runs now (under its lease).',
  fields: (t) => ({
    id: t.id({
      description: "The task's id (as Task.id: node(id:) reads the whole task).",
      resolve: (task) => toGlobalId('Task', task.id),
    }),
    type: t.exposeString('type'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
  }),
});

const Worker = builder.objectRef<WorkerView>('Worker').implement({
  description:
    'A worker process, from its heartbeat row: kept for an hour after its last heartbeat, ' +
    'whether it stopped gracefully (stoppedAt) or was killed (alive turns false).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'hostname:pid:random, as its logs and tasks name it.' }),
    host: t.exposeString('host'),
    pid: t.exposeInt('pid'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    lastHeartbeatAt: t.expose('lastHeartbeatAt', { type: 'DateTime' }),
    stoppedAt: t.expose('stoppedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it stopped gracefully; null while it runs, or when it was killed.',
    }),
    alive: t.exposeBoolean('alive', {
      description:
        'A heartbeat in the last 15 s and no graceful stop (as QueueStats.workersAlive counts).',
    }),
    slots: t.exposeInt('slots', { description: 'Tasks it runs at most (WORKER_CONCURRENCY).' }),
    busySlots: t.exposeInt('busySlots', {
      description: 'Tasks it ran at its last heartbeat (0 once stopped gracefully).',
    }),
    runningTasks: t.expose('runningTasks', {
      type: [WorkerTask],
      description:
        'The started tasks it holds the lease of now, oldest start first (a killed worker ' +
        'keeps them until their lease expires and another worker takes them back).',
    }),
  }),
});

builder.queryField('workers', (t) =>
  t.field({
    type: [Worker],
    description:
      'The operator only (FORBIDDEN otherwise): every worker process of the last hour, newest ' +
      'first (at most 500).',
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => listWorkers(ctx.caller),
  }),
);
