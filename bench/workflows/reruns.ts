// What ran again though no worker was killed: tasks that took a second attempt or whose lease
// was lost (reclaimed once it ran out), and steps run twice. A no-op never fails, so each one
// is a run the engine lost and recovered. Counted over what the worker processes ran, made
// after `since`: the in-process part claims tasks under a worker that never ends them, and
// those are reclaimed when their lease runs out.
import { db } from '../../src/platform/db.js';
import { line } from '../stats.js';
import { check, type Target } from './targets.js';

export async function benchReruns(since: Date, targets: Target[]): Promise<void> {
  const [row] = await db().$queryRaw<[{ attempts: number; leases: number; steps: number }]>`
    SELECT count(*) FILTER (WHERE attempts > 1)::int AS attempts,
           count(*) FILTER (WHERE "leaseLosses" > 0)::int AS leases,
           (SELECT count(*)::int FROM workflow_steps s JOIN workflows w ON w.id = s."workflowId"
            WHERE w."createdAt" >= ${since} AND s.attempts > 1) AS steps
    FROM tasks WHERE "createdAt" >= ${since}`;
  line(
    'run again, no worker killed',
    `${row.attempts} tasks took a second attempt, ${row.leases} lost a lease, ` +
      `${row.steps} steps ran twice`,
  );
  targets.push(
    check(
      'tasks and steps run again, no worker killed',
      row.attempts + row.leases + row.steps,
      0,
      'runs',
    ),
  );
}
