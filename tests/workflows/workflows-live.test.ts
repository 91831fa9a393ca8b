// workflowProgress: the state first, then every event to the end, the same over
// graphql-sse, graphql-ws and Apollo's multipart; a resume with afterSequence is gap- and
// duplicate-free; another team's workflow is NOT_FOUND; a step's progress is at most 4 a second.
import { gql } from '@apollo/client';
import { createClient as createWsClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { db, inTransaction } from '../../src/platform/db.js';
import { apolloHttp } from '../client/recipes.js';
import { follow, liveClient } from '../utils/live-queries.js';
import { collect, sseClient } from '../utils/sse.js';
import { CANCEL, PROGRESS, RETRY, RUN, START, step, PLAN, useWorkflows } from './fixture.js';
import { rowId } from '../utils/ids.js';

const w = useWorkflows();

async function logOf(workflowGlobalId: string) {
  return db().workflowEvent.findMany({
    where: { workflowId: rowId(workflowGlobalId) },
    orderBy: { sequence: 'asc' },
  });
}

const sse = () => {
  const client = sseClient({ url: `${w.app.baseUrl}/graphql/stream`, key: w.keys.alice! });
  w.h.onCleanup(() => client.dispose());
  return client;
};

/** A graphql-ws client of Alice's, disposed at the end of the file. */
function wsClient() {
  const client = createWsClient({
    url: `${w.app.baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${w.keys.alice}` },
    retryAttempts: 0,
  });
  w.h.onCleanup(() => client.dispose());
  return client;
}

function viaWs(variables: Record<string, unknown>): Promise<any[]> {
  const client = wsClient();
  const events: any[] = [];
  return new Promise((resolve, reject) =>
    client.subscribe(
      { query: PROGRESS, variables },
      {
        next: (r) => events.push(r.data!.workflowProgress),
        error: reject,
        complete: () => resolve(events),
      },
    ),
  );
}

function viaMultipart(variables: Record<string, unknown>): Promise<any[]> {
  const client = apolloHttp(w.app.baseUrl, w.keys.alice!);
  const events: any[] = [];
  return new Promise((resolve, reject) =>
    client.subscribe({ query: gql(PROGRESS), variables }).subscribe({
      next: (r: any) => events.push(r.data.workflowProgress),
      error: reject,
      complete: () => resolve(events),
    }),
  );
}

/** A refused subscription over graphql-ws: the errors of its result. */
function wsErrors(variables: Record<string, unknown>): Promise<any[]> {
  const client = wsClient();
  return new Promise((resolve, reject) =>
    client.subscribe(
      { query: PROGRESS, variables },
      {
        next: (r) => (r.errors ? resolve([...r.errors]) : undefined),
        error: (errors) => resolve(Array.isArray(errors) ? errors : [errors]),
        complete: () => reject(new Error('completed without an error')),
      },
    ),
  );
}

/** A refused subscription over multipart: the errors of its result (Apollo passes them on). */
function multipartErrors(variables: Record<string, unknown>): Promise<any[]> {
  const client = apolloHttp(w.app.baseUrl, w.keys.alice!);
  return new Promise((resolve, reject) =>
    client.subscribe({ query: gql(PROGRESS), variables }).subscribe({
      next: (r: any) => (r.error || r.errors ? resolve(r.error?.errors ?? r.errors) : undefined),
      error: (error: any) => resolve(error.errors ?? [error]),
      complete: () => reject(new Error('completed without an error')),
    }),
  );
}

describe('workflowProgress', () => {
  it('sends the state, then every event to the end, alike over graphql-sse, graphql-ws and multipart', async () => {
    const steps = [
      step('a', 'NOOP', { input: { waitMs: 300 } }),
      step('b', 'NOOP', { dependsOn: ['a'] }),
      step('c', 'NOOP', { dependsOn: ['a'] }),
      step('d', 'NOOP', { dependsOn: ['b', 'c'] }),
    ];
    const planned = await w.planWith(steps);
    const variables = { id: planned.id };
    const [bySse, byWs, byMultipart] = [
      collect<any>(sse(), PROGRESS, variables),
      viaWs(variables),
      viaMultipart(variables),
    ];
    // Each stream has its first (state) entry before the start: wait for the log's position.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await w.startWorker();
    await w.gqlOk(START, { id: planned.id, v: planned.planVersion });
    const log = await (async () => {
      await w.waitForStatus(planned.id, ['SUCCEEDED']);
      return logOf(planned.id);
    })();
    const streams = [
      (await bySse).map((r) => r.data.workflowProgress),
      await byWs,
      await byMultipart,
    ];
    for (const events of streams) {
      expect(events[0]).toMatchObject({ kind: 'STATE', status: 'PLANNED' });
      const rest = events.slice(1);
      expect(rest.map((e) => e.sequence)).toEqual(
        log.filter((e) => e.sequence > events[0].sequence).map((e) => e.sequence),
      );
      expect(rest.at(-1)).toMatchObject({ kind: 'WORKFLOW', status: 'SUCCEEDED' });
    }
  });

  it('resumes after any sequence without a gap or a repeat, and a finished workflow answers with its state and ends', async () => {
    await w.startWorker();
    const run = (await w.gqlOk(RUN, { input: { goal: 'resume', agentIds: [w.agents[0]!.id] } }))
      .runWorkflow;
    await w.waitForStatus(run.id, ['SUCCEEDED']);
    const log = await logOf(run.id);
    for (const after of [0, 3, log.length - 1, log.length]) {
      const events = (await collect<any>(sse(), PROGRESS, { id: run.id, after })).map(
        (r) => r.data.workflowProgress,
      );
      expect(events.map((e) => e.sequence)).toEqual(
        log.filter((e) => e.sequence > after).map((e) => e.sequence),
      );
    }
    const state = (await collect<any>(sse(), PROGRESS, { id: run.id })).map(
      (r) => r.data.workflowProgress,
    );
    expect(state).toEqual([
      expect.objectContaining({
        kind: 'STATE',
        status: 'SUCCEEDED',
        sequence: log.length,
        progressPercent: 100,
      }),
    ]);
  });

  it('refuses an afterSequence below 0 or past the last event, naming it, over every transport', async () => {
    // Planned: its log is open, so a follower past its end would wait for ever.
    const planned = await w.planWith([step('a', 'NOOP')]);
    const last = (await logOf(planned.id)).length;
    for (const [after, reason] of [
      [-1, 'NEGATIVE'],
      [last + 1, 'AFTER_LAST_EVENT'],
      [1_000, 'AFTER_LAST_EVENT'],
    ] as const) {
      const viaSse = (
        await collect<any>(sse(), PROGRESS, { id: planned.id, after }).catch((e) => e)
      ).flatMap((r: any) => r.errors ?? [r]);
      const viaSocket = await wsErrors({ id: planned.id, after });
      const viaHttp = await multipartErrors({ id: planned.id, after });
      for (const [transport, refusal] of Object.entries({ viaSse, viaSocket, viaHttp }))
        expect(refusal[0]?.extensions, `${transport}: ${JSON.stringify(refusal)}`).toMatchObject({
          code: 'BAD_USER_INPUT',
          argument: 'afterSequence',
          reason,
        });
    }
    // The last event itself is a position a client may hold: it follows from there.
    const started = viaWs({ id: planned.id, after: last });
    await w.startWorker();
    await w.gqlOk(START, { id: planned.id, v: planned.planVersion });
    const events = await started;
    expect(events.at(-1)).toMatchObject({ kind: 'WORKFLOW', status: 'SUCCEEDED' });
    expect(events.map((e) => e.sequence)).toEqual(
      (await logOf(planned.id)).filter((e) => e.sequence > last).map((e) => e.sequence),
    );
    // Workflow.events: below 0 is refused too; past the end is an empty page.
    const query = `query($id: ID!, $after: Int) { workflow(id: $id) { events(afterSequence: $after) { sequence } } }`;
    const negative = await w.h.gql(query, { id: planned.id, after: -1 }, w.keys.alice);
    expect(negative.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'afterSequence',
    });
    expect((await w.gqlOk(query, { id: planned.id, after: 10_000 })).workflow.events).toEqual([]);
  });

  it('a resume across a cancel and a retry follows the log to its last end, not the cancel', async () => {
    await w.startWorker();
    const planned = await w.planWith([
      step('a', 'NOOP', { input: { waitMs: 60_000 } }),
      step('b', 'NOOP', { dependsOn: ['a'] }),
    ]);
    await w.gqlOk(START, { id: planned.id, v: planned.planVersion });
    const aRunning = () =>
      w.waitFor(
        async () => (await w.workflowOf(planned.id)).steps[0].status === 'RUNNING',
        'a running',
      );
    await aRunning();
    await w.gqlOk(CANCEL, { id: planned.id });
    expect((await w.gqlOk(RETRY, { id: planned.id, from: 'a' })).retryWorkflow.status).toBe(
      'RUNNING',
    );
    await aRunning();
    const firstEnd = (await logOf(planned.id)).find(
      (e) => e.kind === 'WORKFLOW' && e.status === 'CANCELLED',
    )!;
    // Resumed from before the first cancel: that end is followed by the retry's events, so
    // the follower goes on, live, to the second cancel's end.
    const resumed = collect<any>(sse(), PROGRESS, { id: planned.id, after: 1 });
    await w.gqlOk(CANCEL, { id: planned.id });
    const events = (await resumed).map((r) => r.data.workflowProgress);
    const log = await logOf(planned.id);
    expect(events.map((e) => e.sequence)).toEqual(
      log.filter((e) => e.sequence > 1).map((e) => e.sequence),
    );
    expect(events.at(-1)).toMatchObject({ kind: 'WORKFLOW', status: 'CANCELLED' });
    expect(events.at(-1).sequence).toBeGreaterThan(firstEnd.sequence);
  });

  it('a live query of a step task that never ran shows its end when the workflow is cancelled', async () => {
    // No worker: the step's task waits PENDING, and no worker will see it end.
    const started = await w.startWith([step('only', 'NOOP')]);
    const task = started.steps[0].task;
    expect(task.status).toBe('PENDING');
    const followed = follow(
      liveClient(w.h, w.app, 'sse', w.keys.alice!),
      'query($id: ID!) @live { task(id: $id) { id status } }',
      { id: task.id },
    );
    await followed.latest((r) => r.data?.task.status === 'PENDING', 'the task waiting');
    expect((await w.gqlOk(CANCEL, { id: started.id })).cancelWorkflow.status).toBe('CANCELLED');
    expect(
      await followed.latest((r) => r.data?.task.status === 'CANCELLED', 'the task cancelled'),
    ).toEqual({ data: { task: { id: task.id, status: 'CANCELLED' } } });
    expect((await db().task.findUniqueOrThrow({ where: { id: rowId(task.id) } })).status).toBe(
      'CANCELLED',
    );
    followed.stop();
  });

  it('shows the end of a never-run step task whose row was held when the workflow was cancelled', async () => {
    const started = await w.startWith([step('only', 'NOOP')]);
    const task = started.steps[0].task;
    const followed = follow(
      liveClient(w.h, w.app, 'ws', w.keys.alice!),
      'query($id: ID!) @live { task(id: $id) { id status } }',
      { id: task.id },
    );
    await followed.latest((r) => r.data?.task.status === 'PENDING', 'the task waiting');
    await inTransaction(async (tx) => {
      // Held as a worker's claim holds it: the cancel statement skips it, and asks again after.
      await tx.client.$queryRaw`SELECT id FROM tasks WHERE id = ${rowId(task.id)}::uuid FOR UPDATE`;
      expect((await w.gqlOk(CANCEL, { id: started.id })).cancelWorkflow.status).toBe('CANCELLED');
      const row = await db().task.findUniqueOrThrow({ where: { id: rowId(task.id) } });
      expect(row.status).toBe('PENDING');
    });
    expect(
      await followed.latest((r) => r.data?.task.status === 'CANCELLED', 'the task cancelled'),
    ).toEqual({ data: { task: { id: task.id, status: 'CANCELLED' } } });
    const row = await db().task.findUniqueOrThrow({ where: { id: rowId(task.id) } });
    expect([row.status, row.cancellationRequested]).toEqual(['CANCELLED', true]);
    followed.stop();
  });

  it("refuses another team's workflow with NOT_FOUND", async () => {
    const planned = (await w.gqlOk(PLAN, { input: { goal: 'private', agentIds: [] } }))
      .planWorkflow;
    const bob = sseClient({ url: `${w.app.baseUrl}/graphql/stream`, key: w.keys.bob! });
    w.h.onCleanup(() => bob.dispose());
    const results = await collect<any>(bob, PROGRESS, { id: planned.id }).catch((errors) => [
      { errors },
    ]);
    expect(JSON.stringify(results)).toContain('NOT_FOUND');
  });

  it("writes a step's progress as events, at most one per 250 ms per step", async () => {
    await w.startWorker();
    const planned = await w.planWith([
      step('s', 'WRITE_SECTION', { input: { title: 'Progress', description: 'd' } }),
      step('syn', 'SYNTHESIZE', { dependsOn: ['s'] }),
    ]);
    await w.gqlOk(START, { id: planned.id, v: planned.planVersion });
    await w.waitForStatus(planned.id, ['SUCCEEDED']);
    const progress = (await logOf(planned.id)).filter((e) => e.kind === 'PROGRESS');
    expect(progress.length).toBeGreaterThan(0);
    for (const key of new Set(progress.map((e) => e.stepKey))) {
      const times = progress.filter((e) => e.stepKey === key).map((e) => e.at.getTime());
      for (let i = 1; i < times.length; i++)
        expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(250);
    }
  });
});
