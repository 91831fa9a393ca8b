// What the chaos run found: tasks lost, stuck or run twice, event-log gaps (in the log and as
// the subscribers saw it), and kill → reclaim → rerun times, each against its target.
import { db } from '../../src/platform/db.js';
import { formatSummary, line, summarize } from '../stats.js';
import { LEASE_MS, TERMINAL, type Kill } from './settings.js';

export async function report(
  ids: string[],
  kills: Kill[],
  seen: Map<string, number[]>,
): Promise<boolean> {
  const rows = await db().task.findMany({
    where: { id: { in: ids } },
    select: { id: true, status: true, attempts: true, lastSequence: true },
  });
  const lost = ids.length - rows.length;
  const stuck = rows.filter((row) => !TERMINAL.includes(row.status)).length;
  const twice = await db().$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM (SELECT "taskId" FROM task_events WHERE "taskId" = ANY(${ids}::uuid[]) AND status = 'COMPLETED' GROUP BY "taskId" HAVING count(*) > 1) twice`;
  const histories = await db().$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM (SELECT "taskId" FROM coverage_history WHERE "taskId" = ANY(${ids}::uuid[]) GROUP BY "taskId" HAVING count(*) > 1) twice`;
  const gaps = await db().$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM (
      SELECT t.id FROM tasks t JOIN task_events e ON e."taskId" = t.id WHERE t.id = ANY(${ids}::uuid[])
      GROUP BY t.id, t."lastSequence" HAVING count(*) <> t."lastSequence" OR min(e.sequence) <> 1 OR max(e.sequence) <> t."lastSequence") gapped`;
  const subscriberGaps = [...seen.entries()].filter(([id, sequences]) => {
    const last = rows.find((row) => row.id === id)?.lastSequence ?? 0;
    return sequences.length !== last || sequences.some((sequence, i) => sequence !== i + 1);
  }).length;
  const { reclaims, reruns } = await killTimes(kills);
  const caught = kills.reduce((n, kill) => n + kill.taskIds.length, 0);
  const completed = rows.filter((row) => row.status === 'COMPLETED').length;
  line(
    'kills',
    `${kills.length} worker SIGKILLs caught ${caught} running tasks; Redis SIGKILLed and restarted once`,
  );
  line(
    'tasks',
    `${ids.length} enqueued, ${completed} COMPLETED, ${rows.filter((row) => row.attempts > 1).length} needed more than one attempt`,
  );
  const maxRerun = reruns.length ? Math.max(...reruns) : 0;
  const checks: Array<[string, number, boolean]> = [
    ['tasks lost', lost, lost === 0],
    ['tasks stuck (not finished by the deadline)', stuck, stuck === 0],
    [
      'tasks run twice (two COMPLETED, or two history entries)',
      Number(twice[0]!.n) + Number(histories[0]!.n),
      Number(twice[0]!.n) + Number(histories[0]!.n) === 0,
    ],
    ['tasks with event-log gaps', Number(gaps[0]!.n), Number(gaps[0]!.n) === 0],
    [
      `subscribers (of ${seen.size}) that missed or repeated a sequence`,
      subscriberGaps,
      subscriberGaps === 0,
    ],
    [
      `slowest kill → rerun, ms (target <= 2 x ${LEASE_MS})`,
      Math.round(maxRerun),
      maxRerun <= 2 * LEASE_MS,
    ],
  ];
  if (reclaims.length) line('kill → reclaim', formatSummary(summarize(reclaims)));
  if (reruns.length) line('kill → rerun', formatSummary(summarize(reruns)));
  for (const [label, value, met] of checks) line(label, `${value}: ${met ? 'MET' : 'MISSED'}`);
  return checks.every(([, , met]) => met);
}

/** For each task a kill caught: ms from the kill to its lease's reclaim, and to its next attempt. */
async function killTimes(kills: Kill[]): Promise<{ reclaims: number[]; reruns: number[] }> {
  const reclaims: number[] = [];
  const reruns: number[] = [];
  for (const kill of kills) {
    for (const taskId of kill.taskIds) {
      const after = await db().taskEvent.findMany({
        where: { taskId, at: { gt: kill.at } },
        orderBy: { sequence: 'asc' },
        select: { at: true, message: true },
      });
      const reclaimed = after.find((event) => event.message?.startsWith('lease expired'));
      const rerun = after.find((event) => event.message?.startsWith('attempt '));
      if (reclaimed) reclaims.push(reclaimed.at.getTime() - kill.at.getTime());
      if (rerun) reruns.push(rerun.at.getTime() - kill.at.getTime());
    }
  }
  return { reclaims, reruns };
}
