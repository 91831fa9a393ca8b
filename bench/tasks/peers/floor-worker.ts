// The floor of our tables' design, as the queue benchmark's reference: the fewest statements a
// worker could run on `tasks` and `task_events` for a no-op task with our guarantees' rows
// (a leased claim, an end fenced by lease and attempt, its event), a batch of BATCH at a time
// with LANES (2) batches in flight, on node-postgres alone: no local queue, handler, lease renewal,
// retry, metrics or pub/sub. What ours costs beyond it is the engine; what it costs is the
// design (a task row updated twice, non-HOT, and an event row per task).
// With WAKE_CHANNEL set it takes tasks as they come instead (the add→start floor): each
// wake-up on that Redis channel (our enqueue's, src/queue/signals.ts) sends a claim at once,
// beside any under way, and the claimed tasks' end follows unawaited; a poll every second.
// With NOTIFY_CHANNEL set instead, the wake-ups are PostgreSQL's: a LISTEN on a connection of
// its own, notified by a trigger the bench puts on `tasks` at the add's commit (the wake-up
// leaves with the commit, before the add's caller has its answer, as graphile-worker's do).
import { Redis } from 'ioredis';
import pg from 'pg';

const BATCH = Number(process.env.BATCH ?? 512);
const workerId = `floor:${process.pid}`;
// JIT off for these statements, as our pool sets it (src/platform/db.ts).
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: 3,
  options: '-c jit_above_cost=5000000',
});

const CLAIM = `
  WITH next AS (
    SELECT id FROM tasks
    WHERE status = 'PENDING' AND "runAt" <= now() AND type = 'noop'
    ORDER BY priority, "runAt", "createdAt", id
    FOR UPDATE SKIP LOCKED LIMIT $2)
  UPDATE tasks t SET status = 'RUNNING', attempts = t.attempts + 1, "lockedBy" = $1,
    "workerId" = $1, "lockedUntil" = now() + interval '30 seconds',
    "startedAt" = clock_timestamp(), "updatedAt" = now()
  -- The id list as well as the join, as ours: the rows found by key, not by a scan.
  FROM next WHERE t.id = next.id AND t.id = ANY(ARRAY(SELECT id FROM next))
  RETURNING t.id, t.attempts`;

// Each task found by key, one after the other (as write-changes.ts does): joined freely, the
// cached generic plan scanned every running task once per change.
const END = `
  WITH c AS (SELECT * FROM unnest($2::uuid[], $3::int[]) AS c(id, attempt)),
  held AS MATERIALIZED (
    SELECT t.id FROM c CROSS JOIN LATERAL (
      SELECT id, status FROM tasks WHERE id = c.id AND "lockedBy" = $1 AND attempts = c.attempt
      OFFSET 0
    ) t
    WHERE t.status = 'RUNNING'),
  changed AS (
    UPDATE tasks t SET status = 'COMPLETED', result = 'null', "progressPercent" = 100,
      "currentStep" = 'completed', "lockedBy" = NULL, "lockedUntil" = NULL,
      "completedAt" = now(), "lastSequence" = t."lastSequence" + 1, "updatedAt" = now()
    FROM held WHERE t.id = held.id
    RETURNING t.id, t."lastSequence", t.status)
  INSERT INTO task_events ("taskId", sequence, status, "progressPercent", "currentStep", message, at)
  SELECT id, "lastSequence", status, 100, 'completed', 'completed', now() FROM changed`;

let stopping = false;

async function lane(): Promise<void> {
  while (!stopping) {
    const { rows } = await pool.query<{ id: string; attempts: number }>({
      name: 'floor-claim',
      text: CLAIM,
      values: [workerId, BATCH],
    });
    if (rows.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    // The no-op "runs": nothing to do between the claim and the end.
    await pool.query({
      name: 'floor-end',
      text: END,
      values: [workerId, rows.map((row) => row.id), rows.map((row) => row.attempts)],
    });
  }
}

/** A claim sent now (a wake-up's), its tasks' end sent as soon as it returns. */
async function claimAndEnd(): Promise<void> {
  const { rows } = await pool.query<{ id: string; attempts: number }>({
    name: 'floor-claim',
    text: CLAIM,
    values: [workerId, BATCH],
  });
  if (rows.length === 0) return;
  await pool.query({
    name: 'floor-end',
    text: END,
    values: [workerId, rows.map((row) => row.id), rows.map((row) => row.attempts)],
  });
}

const claims = new Set<Promise<void>>();
function claimNow(): void {
  if (stopping) return;
  const claim: Promise<void> = claimAndEnd()
    .catch((error: Error) => console.error(`floor claim failed: ${error.message}`))
    .finally(() => claims.delete(claim));
  claims.add(claim);
}

async function takeAsTheyCome(channel: string): Promise<() => Promise<unknown>> {
  const subscriber = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  subscriber.on('message', claimNow);
  await subscriber.subscribe(channel);
  const poll = setInterval(claimNow, 1_000);
  return async () => {
    clearInterval(poll);
    await subscriber.quit();
    await Promise.allSettled([...claims]);
  };
}

function drainBacklog(): () => Promise<unknown> {
  const lanes = Array.from({ length: Number(process.env.LANES ?? 2) }, () => lane());
  return () => Promise.allSettled(lanes);
}

async function takeOnNotify(channel: string): Promise<() => Promise<unknown>> {
  const listener = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await listener.connect();
  listener.on('notification', claimNow);
  await listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  const poll = setInterval(claimNow, 1_000);
  return async () => {
    clearInterval(poll);
    await listener.end();
    await Promise.allSettled([...claims]);
  };
}

const redisChannel = process.env.WAKE_CHANNEL;
const notifyChannel = process.env.NOTIFY_CHANNEL;
const stop = redisChannel
  ? await takeAsTheyCome(redisChannel)
  : notifyChannel
    ? await takeOnNotify(notifyChannel)
    : drainBacklog();
console.log('ready');
process.on('SIGTERM', () => {
  stopping = true;
  void stop().then(() => pool.end().then(() => process.exit(0)));
});
