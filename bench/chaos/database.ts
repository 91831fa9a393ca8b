// The chaos run's database scenario: 1 API and 2 worker processes on a private PostgreSQL
// cluster (and a private Redis), under a steady load of GraphQL requests (background coverage
// refreshes, and reads of the tasks they made) from CHAOS_DB_CLIENTS clients; PostgreSQL is
// stopped for CHAOS_DB_DOWN_S seconds (a fast shutdown: every connection cut) and started
// again. A graphql-sse subscriber follows a long task through it. Prints, and misses a target
// on anything but: 0 acknowledged tasks lost, no request over 5 s, every refused request
// saying SERVICE_UNAVAILABLE (503 with Retry-After), the first success within 5 s of
// PostgreSQL's return, /ready failing while it is away, the subscriber's events gap-free.
import { createClient } from 'graphql-sse';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { applyPendingMigrations } from '../../src/platform/migrations/index.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { enqueue } from '../../src/queue/enqueue.js';
import { startPrivatePostgres } from '../../tests/utils/private-postgres.js';
import { freePort } from '../../src/platform/free-port.js';
import { start, startRedis } from '../spawn.js';
import { heading, line } from '../stats.js';
import { benchAgent } from '../tasks/fixture.js';
import { ADMIN_KEY, TERMINAL } from './settings.js';
import { chaosStep } from './tasks.js';

const DOWN_S = Number(process.env.CHAOS_DB_DOWN_S ?? 10);
const CLIENTS = Number(process.env.CHAOS_DB_CLIENTS ?? 8);
const BEFORE_S = 3;
const AFTER_S = 8;
const HANG_MS = 5_000;

interface Sample {
  start: number;
  end: number;
  ok: boolean;
  status: number;
  code?: string;
  retryAfter: string | null;
  taskId?: string;
}

const REFRESH = `mutation($id: ID!) {
  refreshCoverage(input: { agentId: $id, background: true }) { task { id } } }`;
const TASK = 'query($id: ID!) { task(id: $id) { status } }';

async function request(port: number, query: string, variables: object): Promise<Sample> {
  const start = Date.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${ADMIN_KEY}`,
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as {
      data?: { refreshCoverage?: { task: { id: string } } };
      errors?: Array<{ extensions?: { code?: string } }>;
    };
    return {
      start,
      end: Date.now(),
      ok: response.status === 200 && !body.errors,
      status: response.status,
      code: body.errors?.[0]?.extensions?.code,
      retryAfter: response.headers.get('retry-after'),
      taskId: body.data?.refreshCoverage?.task.id,
    };
  } catch (error) {
    return { start, end: Date.now(), ok: false, status: 0, code: String(error), retryAfter: null };
  }
}

/** CLIENTS loops of requests until `stop()`: a refresh, then a read of the task it made. */
function load(port: number, agentId: string) {
  const samples: Sample[] = [];
  let running = true;
  const loops = Array.from({ length: CLIENTS }, async () => {
    let lastTask: string | undefined;
    while (running) {
      const refresh = await request(port, REFRESH, { id: agentId });
      samples.push(refresh);
      lastTask = refresh.taskId ?? lastTask;
      if (lastTask) samples.push(await request(port, TASK, { id: lastTask }));
      await sleep(50);
    }
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** /ready every 250 ms while it runs: how many answered 200. */
function probeReady(port: number) {
  let running = true;
  const answers: number[] = [];
  const done = (async () => {
    while (running) {
      const response = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      answers.push(response?.status ?? 0);
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return answers;
    },
  };
}

async function startProcesses(databaseUrl: string) {
  const redisPort = await freePort();
  const redis = await startRedis(redisPort);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    ADMIN_API_KEY: ADMIN_KEY,
    PUBSUB_PREFIX: 'chaos-db:',
    TASK_POLL_MS: '500',
    LOAD_DEMO_DATA: 'false',
  };
  const apiPort = await freePort();
  const api = await start(
    process.execPath,
    ['scripts/start.mjs'],
    { ...env, ROLE: 'api', PORT: String(apiPort) },
    /GraphiQL/,
  );
  const workers = await Promise.all(
    [1, 2].map(() =>
      start(process.execPath, ['--import', 'tsx', 'bench/chaos/worker.ts'], env, /^ready /m),
    ),
  );
  return {
    apiPort,
    redisUrl: env.REDIS_URL,
    stop() {
      for (const child of [api, ...workers, redis]) child.kill('SIGKILL');
    },
  };
}

/** A subscriber of one long task through the outage: the sequences it saw. */
function follow(port: number, taskId: string) {
  const sequences: number[] = [];
  const statuses: string[] = [];
  const client = createClient({
    url: `http://127.0.0.1:${port}/graphql/stream`,
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    retryAttempts: 30,
    retry: () => sleep(500),
  });
  const done = new Promise<void>((resolve) =>
    client.subscribe<{ taskProgress: { sequence: number; status: string } }>(
      {
        query: `subscription($id: ID!) { taskProgress(taskId: $id, afterSequence: 0) {
          sequence status } }`,
        variables: { id: taskId },
      },
      {
        next: (result) => {
          if (!result.data) return;
          sequences.push(result.data.taskProgress.sequence);
          statuses.push(result.data.taskProgress.status);
        },
        error: () => resolve(),
        complete: () => resolve(),
      },
    ),
  );
  return {
    sequences,
    statuses,
    done: Promise.race([done, sleep(60_000)]),
    close: () => client.dispose(),
  };
}

export async function runDatabaseChaos(): Promise<boolean> {
  const cluster = await startPrivatePostgres();
  const url = await cluster.createDatabase('chaos');
  await applyPendingMigrations(url);
  connectDatabase(url, { poolSize: 4 });
  const processes = await startProcesses(url);
  const pubsub = createRedisPubSub(processes.redisUrl, 'chaos-db:');
  try {
    heading(
      `chaos, database (1 API + 2 workers, ${CLIENTS} clients; PostgreSQL stopped ${DOWN_S} s)`,
    );
    const { agentId, ownerId } = await benchAgent();
    // A long task (steps of 3 s) that runs through the outage, followed by a subscriber.
    const agentRowId = Buffer.from(agentId, 'base64').toString().split(':')[1]!;
    const { task: long } = await enqueue(
      chaosStep,
      { payload: { agentId: agentRowId, ms: 10_000 }, ownerId, teamId: null },
      { pubsub },
    );
    const follower = follow(processes.apiPort, toGlobalId('Task', long.id));
    const traffic = load(processes.apiPort, agentId);
    await sleep(BEFORE_S * 1_000);
    await disconnectDatabase();
    const downAt = Date.now();
    await cluster.stop();
    // While it is away (pg_ctl waited for the stop; the probes end before the start).
    const ready = probeReady(processes.apiPort);
    await sleep(DOWN_S * 1_000);
    const readyDuring = (await ready.stop()).filter((status) => status === 200).length;
    await cluster.start();
    const upAt = Date.now();
    connectDatabase(url, { poolSize: 4 });
    await sleep(AFTER_S * 1_000);
    await traffic.stop();
    return await report({ samples: traffic.samples, downAt, upAt, readyDuring, follower });
  } finally {
    processes.stop();
    await pubsub.close();
    await disconnectDatabase().catch(() => undefined);
    await cluster.destroy();
  }
}

async function report(run: {
  samples: Sample[];
  downAt: number;
  upAt: number;
  readyDuring: number;
  follower: ReturnType<typeof follow>;
}): Promise<boolean> {
  const { samples, upAt, readyDuring, follower } = run;
  const acknowledged = samples.flatMap((sample) => (sample.taskId ? [sample.taskId] : []));
  const rowIds = acknowledged.map((id) => Buffer.from(id, 'base64').toString().split(':')[1]!);
  const deadline = Date.now() + 60_000;
  let open = Infinity;
  while (open > 0 && Date.now() < deadline) {
    open = await db().task.count({
      where: { id: { in: rowIds }, status: { notIn: TERMINAL as never } },
    });
    if (open > 0) await sleep(500);
  }
  const completed = await db().task.count({ where: { id: { in: rowIds }, status: 'COMPLETED' } });
  await follower.done;
  follower.close();
  const lost = acknowledged.length - completed;
  const hung = samples.filter((sample) => sample.end - sample.start > HANG_MS).length;
  const refused = samples.filter((sample) => !sample.ok);
  const unexplained = refused.filter(
    (sample) =>
      sample.code !== 'SERVICE_UNAVAILABLE' || sample.status !== 503 || !sample.retryAfter,
  );
  const firstSuccess = Math.min(
    ...samples.filter((sample) => sample.ok && sample.start >= upAt).map((sample) => sample.end),
  );
  const recovery = firstSuccess - upAt;
  // A reconnect replays from afterSequence 0: what matters is that every event arrived.
  const seen = [...new Set(follower.sequences)].sort((a, b) => a - b);
  const gaps = seen.filter((sequence, i) => sequence !== i + 1).length;
  const ended = TERMINAL.includes(follower.statuses.at(-1) ?? '');
  const longest = Math.max(...samples.map((sample) => sample.end - sample.start));
  line('requests', `${samples.length}, ${refused.length} refused, the longest ${longest} ms`);
  line('TARGET acknowledged tasks lost', `${lost} of ${acknowledged.length} (target 0)`);
  line(`TARGET requests over ${HANG_MS} ms`, `${hung} (target 0)`);
  line(
    'TARGET refusals not SERVICE_UNAVAILABLE (503, Retry-After)',
    `${unexplained.length} (target 0)${unexplained.length ? `: ${JSON.stringify(unexplained.slice(0, 3))}` : ''}`,
  );
  line('TARGET first success after PostgreSQL is back', `${recovery} ms (target <= 5000 ms)`);
  line('TARGET /ready answered 200 while PostgreSQL was away', `${readyDuring} times (target 0)`);
  line(
    "TARGET the subscriber's events: gaps",
    `${gaps} in ${seen.length} events, ending ${follower.statuses.at(-1)} (target 0, terminal)`,
  );
  return (
    lost === 0 &&
    hung === 0 &&
    unexplained.length === 0 &&
    recovery <= 5_000 &&
    readyDuring === 0 &&
    gaps === 0 &&
    ended
  );
}
