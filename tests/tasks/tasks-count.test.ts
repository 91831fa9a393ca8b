// The task list's totalCount: exact up to TASK_COUNT_EXACT_CAP matching tasks, then the
// planner's estimate (totalCountIsEstimate), counted only when asked for and only among the
// caller's teams, beside the page when the selection asks for it. Real PostgreSQL.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { TASK_COUNT_EXACT_CAP } from '../../src/services/tasks/tasks.js';
import { teamWithMember } from '../utils/teams.js';
import { waitFor } from '../utils/wait.js';
import { useTasks } from './fixture.js';

const { h } = useTasks();

const COUNT = `query($type: [String!], $status: [TaskStatus!]) {
  tasks(type: $type, status: $status, first: 1) {
    totalCount totalCountIsEstimate edges { node { type } } } }`;

/** `count` finished tasks of `type` in the team, in one statement. */
async function insertTasks(type: string, count: number, teamId: string, status = 'COMPLETED') {
  await db().$executeRaw`
    INSERT INTO tasks (type, payload, status, "lastSequence", "teamId", "completedAt")
    SELECT ${type}, '{}'::jsonb, ${status}::"TaskStatus", 0, ${teamId}::uuid, now()
    FROM generate_series(1, ${count})`;
}

describe('tasks totalCount', () => {
  it('counts exactly up to the cap, estimates past it and says so, and counts only when asked', async () => {
    await h.startApp();
    const team = await teamWithMember(h, 'counted');
    const other = await teamWithMember(h, 'uncounted');
    await insertTasks('count_bulk', TASK_COUNT_EXACT_CAP, team.teamRowId);
    await insertTasks('count_rare', 3, team.teamRowId);
    await insertTasks('count_rare', 2, team.teamRowId, 'RUNNING');
    await insertTasks('count_rare', 7, other.teamRowId);
    await db().$executeRawUnsafe('ANALYZE tasks');

    // At the cap: still counted (the operator sees every team's tasks).
    const atCap = await h.gql(COUNT, { type: ['count_bulk'] });
    expect(atCap.errors).toBeUndefined();
    expect(atCap.data.tasks).toMatchObject({
      totalCount: TASK_COUNT_EXACT_CAP,
      totalCountIsEstimate: false,
    });
    // Both parts of the list (RUNNING apart from the rest), each team's own.
    const rare = await h.gql(COUNT, { type: ['count_rare'] }, team.member);
    expect(rare.data.tasks).toMatchObject({ totalCount: 5, totalCountIsEstimate: false });
    const rareRunning = await h.gql(
      COUNT,
      { type: ['count_rare'], status: ['RUNNING'] },
      team.member,
    );
    expect(rareRunning.data.tasks.totalCount).toBe(2);
    const otherRare = await h.gql(COUNT, { type: ['count_rare'] }, other.member);
    expect(otherRare.data.tasks).toMatchObject({ totalCount: 7, totalCountIsEstimate: false });
    expect((await h.gql(COUNT, { type: ['count_rare'] })).data.tasks.totalCount).toBe(12);

    // Past the cap: the planner's estimate, never at or under the cap, and marked as one.
    const past = await h.gql(COUNT, {}, team.member);
    expect(past.errors).toBeUndefined();
    expect(past.data.tasks.totalCountIsEstimate).toBe(true);
    expect(past.data.tasks.totalCount).toBeGreaterThan(TASK_COUNT_EXACT_CAP);
    expect(past.data.tasks.totalCount).toBeLessThan(2 * TASK_COUNT_EXACT_CAP);
    // The other team's few tasks are counted, not estimated from this team's many.
    const otherAll = await h.gql(COUNT, {}, other.member);
    expect(otherAll.data.tasks).toMatchObject({ totalCount: 7, totalCountIsEstimate: false });

    // A page without totalCount sends no count.
    h.queryLog.length = 0;
    const page = await h.gql(`{ tasks(first: 1) { edges { node { id } } } }`, {}, team.member);
    expect(page.errors).toBeUndefined();
    expect(page.data.tasks.edges).toHaveLength(1);
    expect(h.queryLog.filter((sql) => sql.includes('count('))).toEqual([]);
    // Nor does one whose totalCount @skip or @include leaves out, directly or in a fragment.
    const skipped = await h.gql(
      `query($skip: Boolean!, $want: Boolean!) { tasks(first: 1) {
         totalCount @skip(if: $skip) ...total @include(if: $want) edges { node { id } } } }
       fragment total on TaskConnection { totalCountIsEstimate }`,
      { skip: true, want: false },
      team.member,
    );
    expect(skipped.errors).toBeUndefined();
    expect(skipped.data.tasks).not.toHaveProperty('totalCount');
    expect(h.queryLog.filter((sql) => sql.includes('count('))).toEqual([]);
    const counted = await h.gql(`{ tasks(first: 1) { totalCount } }`, {}, team.member);
    expect(counted.data.tasks.totalCount).toBeGreaterThan(TASK_COUNT_EXACT_CAP);
    expect(h.queryLog.filter((sql) => sql.includes('count('))).toHaveLength(1);
    const included = await h.gql(
      `query($want: Boolean!) { tasks(first: 1) { totalCount @include(if: $want) } }`,
      { want: true },
      team.member,
    );
    expect(included.data.tasks.totalCount).toBeGreaterThan(TASK_COUNT_EXACT_CAP);
    expect(h.queryLog.filter((sql) => sql.includes('count('))).toHaveLength(2);
  });

  it('counts beside the page when the selection asks for the total, through a fragment too', async () => {
    await h.startApp();
    const team = await teamWithMember(h, 'beside');
    await insertTasks('count_beside', 3, team.teamRowId);
    const lock = new pg.Client({ connectionString: h.databaseUrl });
    await lock.connect();
    try {
      await lock.query('BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const answer = h.gql(
        `{ tasks(type: ["count_beside"], first: 2) { ...total edges { node { type } } } }
         fragment total on TaskConnection { totalCount }`,
        {},
        team.member,
      );
      // The page and its count wait for the lock together: counted after the page, the count
      // would not be sent before the lock went. Asked outside the locking transaction.
      await waitFor(
        async () => {
          const waiting = await db().$queryRaw<Array<{ query: string }>>`
            SELECT query FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`;
          const sent = (part: string) => waiting.some(({ query }) => query.includes(part));
          return sent('WITH page AS') && sent('AS total');
        },
        'the page and its count to wait for the lock together',
        5_000,
      );
      await lock.query('ROLLBACK');
      const { data, errors } = await answer;
      expect(errors).toBeUndefined();
      expect(data.tasks.totalCount).toBe(3);
      expect(data.tasks.edges).toEqual([
        { node: { type: 'count_beside' } },
        { node: { type: 'count_beside' } },
      ]);
    } finally {
      await lock.end();
    }
  });
});
