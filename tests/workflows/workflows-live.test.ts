// workflowProgress (issue 30 §6): the state first, then every event to the end, the same over
// graphql-sse, graphql-ws and Apollo's multipart; a resume with afterSequence is gap- and
// duplicate-free; another team's workflow is NOT_FOUND; a step's progress is at most 4 a second.
import { gql } from '@apollo/client';
import { createClient as createWsClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { db } from '../../src/platform/db.js';
import { apolloHttp } from '../client/recipes.js';
import { collect, sseClient } from '../utils/sse.js';
import { PROGRESS, RUN, START, step, UPDATE, PLAN, useWorkflows } from './fixture.js';

const w = useWorkflows();
const fromGlobal = (id: string) => Buffer.from(id, 'base64').toString().split(':')[1]!;

/** A PLANNED workflow of `steps`, started once the subscribers are in. */
async function plannedWith(steps: object[]) {
  const planned = (await w.gqlOk(PLAN, { input: { goal: 'live', agentIds: [] } })).planWorkflow;
  const updated = (await w.gqlOk(UPDATE, { id: planned.id, v: planned.planVersion, steps }))
    .updateWorkflowPlan;
  return updated;
}

async function logOf(workflowGlobalId: string) {
  return db().workflowEvent.findMany({
    where: { workflowId: fromGlobal(workflowGlobalId) },
    orderBy: { sequence: 'asc' },
  });
}

const sse = () => {
  const client = sseClient({ url: `${w.app.baseUrl}/graphql/stream`, key: w.keys.alice! });
  w.h.onCleanup(() => client.dispose());
  return client;
};

function viaWs(variables: Record<string, unknown>): Promise<any[]> {
  const client = createWsClient({
    url: `${w.app.baseUrl.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${w.keys.alice}` },
    retryAttempts: 0,
  });
  w.h.onCleanup(() => client.dispose());
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

describe('workflowProgress', () => {
  it('sends the state, then every event to the end, alike over graphql-sse, graphql-ws and multipart', async () => {
    const steps = [
      step('a', 'NOOP', { input: { waitMs: 300 } }),
      step('b', 'NOOP', { dependsOn: ['a'] }),
      step('c', 'NOOP', { dependsOn: ['a'] }),
      step('d', 'NOOP', { dependsOn: ['b', 'c'] }),
    ];
    const planned = await plannedWith(steps);
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
    const planned = await plannedWith([
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
