// queueStats: the queue's counts, as the caller's teams see it.
import { builder } from './builder.js';
import { queueStats } from '../services/tasks/queue-info.js';

const QueueStats = builder
  .objectRef<Awaited<ReturnType<typeof queueStats>>>('QueueStats')
  .implement({
    fields: (t) => ({
      pending: t.exposeInt('pending'),
      running: t.exposeInt('running'),
      completed: t.exposeInt('completed'),
      failed: t.exposeInt('failed'),
      cancelled: t.exposeInt('cancelled'),
      timeout: t.exposeInt('timeout'),
      dead: t.exposeInt('dead'),
      byPriority: t.expose('byPriority', {
        type: 'JSON',
        description: 'Pending tasks by priority: {HIGH, MEDIUM, LOW}.',
      }),
      oldestPendingAgeSeconds: t.exposeFloat('oldestPendingAgeSeconds', { nullable: true }),
      workersAlive: t.exposeInt('workersAlive', {
        description: 'Workers with a heartbeat in the last 15 s.',
      }),
    }),
  });

builder.queryField('queueStats', (t) =>
  t.field({
    type: QueueStats,
    description: "Counts of the caller's teams' tasks (every team's for the operator).",
    authScopes: { read: true },
    resolve: (_root, _args, ctx) => queueStats(ctx.caller),
  }),
);
