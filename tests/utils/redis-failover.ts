// The service on a private Redis topology (a cluster or Sentinel's primary): two API processes
// and a worker as src/main.ts runs them, with what the failover tests check through them:
// pub/sub across processes, shared rate limits, the shared response cache, and tasks.
import { expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes, graphql } from './graphql.js';
import type { Harness } from './harness.js';
import { spawnServiceProcess, type Child } from './processes.js';
import { AGENT_NAME, RENAME, createAgent, overHttp, read } from './response-cache.js';
import { listen, sseClient } from './sse.js';
import { mint } from './teams.js';
import { rowId } from './ids.js';
import { waitFor } from './wait.js';

/** Each minted key may make this many requests a minute: the rate-limit checks spend it. */
const BURST = 4;
const REFRESH = `mutation($id: ID!) { refreshCoverage(input: { agentId: $id, background: true }) { task { id } } }`;
const PROGRESS = `subscription($taskId: ID!) { taskProgress(taskId: $taskId) { status sequence } }`;

export interface ServiceOnRedis {
  /** Base URLs of the two API processes. */
  apis: [string, string];
  /** Starts a worker process (ROLE=worker); resolves once it claims. */
  startWorker(): Promise<Child>;
  /** A GraphQL request as the operator (exempt from rate limits) to API `api`. */
  call(api: 0 | 1, query: string, variables?: Record<string, unknown>): Promise<any>;
}

/** Two API processes (RESPONSE_CACHE on, BURST requests a minute per key) on `redisEnv`. */
export async function startServiceOnRedis(
  h: Harness,
  redisEnv: Record<string, string>,
): Promise<ServiceOnRedis> {
  const common = {
    ...redisEnv,
    ADMIN_API_KEY: h.adminKey,
    LOAD_DEMO_DATA: 'false',
    HOST: '127.0.0.1',
    RESPONSE_CACHE: 'true',
    RATE_LIMIT_PER_MINUTE: '1',
    RATE_LIMIT_BURST: String(BURST),
    RATE_LIMIT_TEAM_PER_MINUTE: '0',
  };
  const started = [0, 1].map(() =>
    spawnServiceProcess(
      h,
      { ...common, ROLE: 'api', PORT: '0' },
      /"port":(\d+)[^\n]*API listening/,
    ),
  );
  const apis = (await Promise.all(started.map((api) => api.ready))).map(
    (line) => `http://127.0.0.1:${/"port":(\d+)/.exec(line)![1]}`,
  ) as [string, string];
  return {
    apis,
    async startWorker() {
      const worker = spawnServiceProcess(
        h,
        { ...common, ROLE: 'worker', WORKER_HTTP_PORT: '0', TASK_POLL_MS: '100' },
        /worker probes listening/,
      );
      await worker.ready;
      return worker;
    },
    call: (api, query, variables = {}) =>
      graphql<any>(fetch, query, variables, { key: h.adminKey, url: `${apis[api]}/graphql` }),
  };
}

/**
 * A new key spends its burst across both processes, and the next request is refused: the
 * buckets are shared through Redis (each process alone would allow BURST more). Until it holds
 * (a process may still be taking from its own buckets while its connections find the new
 * master after a failover), tried again with another key.
 */
export async function expectSharedRateLimits(h: Harness, service: ServiceOnRedis, user: string) {
  let attempt = 0;
  await waitFor(async () => {
    const { key } = await mint(h, `${user}-${attempt++}`, ['READ']);
    for (let i = 0; i < BURST; i++) {
      const answer = await graphql(
        fetch,
        '{ viewer { user } }',
        {},
        {
          key,
          url: `${service.apis[i % 2]}/graphql`,
        },
      );
      if (answer.errors) return false;
    }
    const refused = await graphql(
      fetch,
      '{ viewer { user } }',
      {},
      {
        key,
        url: `${service.apis[BURST % 2]}/graphql`,
      },
    );
    return errorCodes(refused).join() === 'RATE_LIMITED';
  }, 'a key refused after its burst, spent across both API processes');
}

/**
 * An answer cached by one process is a hit in the other, and a rename through the other
 * process is read at once by the first (the cache drops what changed, through Redis).
 */
export async function expectSharedCache(h: Harness, service: ServiceOnRedis, name: string) {
  const id = await createAgent(h, h.adminKey, name);
  const [a, b] = service.apis.map((api) => `${api}/graphql`) as [string, string];
  await waitFor(async () => {
    await read(overHttp, h.adminKey, AGENT_NAME, { id }, a);
    return (await read(overHttp, h.adminKey, AGENT_NAME, { id }, b)).xCache === 'HIT';
  }, 'an answer cached by one process served by the other');
  expect((await service.call(1, RENAME, { id, name: `${name}-renamed` })).errors).toBeUndefined();
  const after = await read(overHttp, h.adminKey, AGENT_NAME, { id }, a);
  expect(after.data.agent.name).toBe(`${name}-renamed`);
}

/** Enqueues a coverage refresh of `agentId` through API `api`; returns the task's id (acknowledged). */
export async function enqueueRefresh(service: ServiceOnRedis, api: 0 | 1, agentId: string) {
  const enqueued = await service.call(api, REFRESH, { id: agentId });
  expect(enqueued.errors).toBeUndefined();
  return enqueued.data.refreshCoverage.task.id as string;
}

export interface FollowedTask {
  statuses: string[];
  sequences: number[];
  /** Settles when the server completes the stream (the task ended). */
  done: Promise<void>;
}

/** Follows a task's progress over graphql-sse on API `api`, as a browser would. */
export function followTask(
  h: Harness,
  service: ServiceOnRedis,
  api: 0 | 1,
  taskId: string,
): FollowedTask {
  const client = sseClient({ url: `${service.apis[api]}/graphql/stream`, key: h.adminKey });
  h.onCleanup(() => client.dispose());
  const followed: FollowedTask = { statuses: [], sequences: [], done: Promise.resolve() };
  followed.done = listen<any>(client, PROGRESS, { taskId }, (event) => {
    expect(event.errors).toBeUndefined();
    followed.statuses.push(event.data.taskProgress.status);
    followed.sequences.push(event.data.taskProgress.sequence);
  }).done;
  return followed;
}

/** Every event once, in order, ending with the task's completion. */
export function expectWholeLog(followed: FollowedTask) {
  expect(followed.statuses.at(-1)).toBe('COMPLETED');
  const first = followed.sequences[0]!;
  expect(followed.sequences).toEqual(followed.sequences.map((_, i) => first + i));
}

/** Every task enqueued (and acknowledged) ran to completion: none lost. */
export async function expectAllCompleted(taskIds: readonly string[]) {
  const rowIds = taskIds.map(rowId);
  await waitFor(
    async () =>
      (await db().task.count({ where: { id: { in: rowIds }, status: 'COMPLETED' } })) ===
      rowIds.length,
    `all ${rowIds.length} acknowledged tasks completed`,
    30_000,
  );
}

/** The agent the task scenarios refresh (created once per file). */
export const agentFor = (h: Harness, name: string) => createAgent(h, h.adminKey, name);
