// `npm run bench -- webhooks`: webhook deliveries through the real path (a message and its
// webhook_delivery task inserted by emitWebhookEvent, a worker with the production engine
// settings and retry schedule, a signed POST) to a local receiver answering in 20 ms.
// 1. 1,000 deliveries offered at a steady rate: enqueue → answered, p50/p99 against the
//    100 ms target, beside the receiver's own 20 ms (the floor).
// 2. The receiver down for 10 s while deliveries keep coming, then back: how many never
//    arrive (target 0) and how many arrived more than once, once retries resume.
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { loadConfig } from '../../src/platform/config.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { operatorCaller } from '../../src/services/auth/caller.js';
import { defaultTeamId } from '../../src/services/auth/default-team.js';
import { emitWebhookEvent } from '../../src/services/webhooks/emit.js';
import { createWebhookEndpoint } from '../../src/services/webhooks/endpoints.js';
import { serviceTaskRegistry } from '../../src/workers/tasks/index.js';
import { startServiceWorker } from '../../src/workers/index.js';
import { benchService } from '../service.js';
import { openFreshBenchDatabase } from '../database.js';
import { formatSummary, heading, line, ms, summarize } from '../stats.js';
import { benchReceiver, type BenchReceiver } from './receiver.js';

const DELIVERIES = Number(process.env.BENCH_WEBHOOKS_DELIVERIES ?? 1_000);
const RATE_PER_SECOND = Number(process.env.BENCH_WEBHOOKS_RATE ?? 100);
const RECEIVER_MS = 20;
const TARGET_P99_MS = 100;
const OUTAGE_MS = 10_000;
const OUTAGE_DELIVERIES = Number(process.env.BENCH_WEBHOOKS_OUTAGE_DELIVERIES ?? 200);
/** How long after the receiver is back every delivery must have arrived. */
const RECOVERY_WAIT_MS = 90_000;

interface Emitter {
  emit(n: number): Promise<string[]>;
}

/** Emits `count` messages at `perSecond`; each message's webhook-id → when it was emitted. */
async function emitPaced(emitter: Emitter, count: number, perSecond: number) {
  const emittedAt = new Map<string, number>();
  const start = performance.now();
  for (let n = 0; n < count; n++) {
    const due = start + (n * 1_000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const before = performance.now();
    for (const id of await emitter.emit(n)) emittedAt.set(`msg_${id}`, before);
  }
  return emittedAt;
}

async function waitAll(receiver: BenchReceiver, ids: Iterable<string>, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  const wanted = [...ids];
  while (performance.now() < deadline) {
    if (wanted.every((id) => receiver.answeredAt.has(id))) return;
    await sleep(100);
  }
}

function latencyPhase(receiver: BenchReceiver, emittedAt: Map<string, number>) {
  const latencies = [...emittedAt].flatMap(([id, at]) => {
    const answered = receiver.answeredAt.get(id);
    return answered === undefined ? [] : [answered - at];
  });
  const summary = summarize(latencies);
  heading(
    `webhooks: ${DELIVERIES} deliveries at ${RATE_PER_SECOND}/s, receiver answering in ${RECEIVER_MS} ms`,
  );
  line('enqueue → answered', formatSummary(summary));
  line('receiver alone (the floor)', ms(RECEIVER_MS));
  line(
    `p99 vs target ${TARGET_P99_MS} ms`,
    `${(summary.p99 / TARGET_P99_MS).toFixed(2)}× the target (${summary.p99 <= TARGET_P99_MS ? 'met' : 'NOT met'})`,
  );
  line('delivered', `${latencies.length} of ${emittedAt.size}`);
}

async function outagePhase(receiver: BenchReceiver, emitter: Emitter) {
  await receiver.down();
  const downAt = performance.now();
  const emitting = emitPaced(emitter, OUTAGE_DELIVERIES, OUTAGE_DELIVERIES / (OUTAGE_MS / 1_000));
  await sleep(OUTAGE_MS);
  await receiver.up();
  const upAt = performance.now();
  const emittedAt = await emitting;
  await waitAll(receiver, emittedAt.keys(), RECOVERY_WAIT_MS);
  const ids = [...emittedAt.keys()];
  const lost = ids.filter((id) => !receiver.answeredAt.has(id)).length;
  const duplicated = ids.filter((id) => (receiver.arrivals.get(id) ?? 0) > 1).length;
  const lastAnswer = Math.max(...ids.map((id) => receiver.answeredAt.get(id) ?? 0));
  heading(
    `webhooks: receiver down ${OUTAGE_MS / 1_000} s, ${OUTAGE_DELIVERIES} deliveries meanwhile`,
  );
  line('lost (target 0)', `${lost} of ${ids.length} (${lost === 0 ? 'met' : 'NOT met'})`);
  line(
    'arrived more than once',
    `${duplicated} (a failed POST is retried: receivers de-duplicate on webhook-id)`,
  );
  line('down for', ms(upAt - downAt));
  line('last delivered after the receiver was back', ms(lastAnswer - upAt));
  const attempts = await db().webhookDelivery.groupBy({
    by: ['succeeded'],
    _count: true,
    where: { messageId: { in: ids.map((id) => id.slice(4)) } },
  });
  line(
    'attempts',
    attempts.map((a) => `${a.succeeded ? 'succeeded' : 'failed'} ${a._count}`).join(', '),
  );
}

export async function benchWebhooks(): Promise<void> {
  const database = await openFreshBenchDatabase(
    process.env.BENCH_WEBHOOKS_DATABASE ?? 'agent_growth_bench_webhooks',
  );
  connectDatabase(database.url, { poolSize: 10 });
  const pubsub = createInProcessPubSub('bench-webhooks:');
  const service = await benchService();
  const config = loadConfig({ DATABASE_URL: database.url });
  // The production schedule and attempts, not the bench service's quick test ones.
  const webhooks = { ...service.webhooks, ...config.webhooks, allowPrivateTargets: true };
  const registry = serviceTaskRegistry({ ...service, webhooks });
  const worker = await startServiceWorker({ tasks: config.tasks, pubsub, registry, webhooks });
  const receiver = await benchReceiver(RECEIVER_MS);
  try {
    const owner = await db().user.upsert({
      where: { name: 'admin' },
      create: { name: 'admin' },
      update: {},
    });
    const caller = operatorCaller(owner, await defaultTeamId());
    const { endpoint } = await createWebhookEndpoint(
      { url: receiver.url, eventTypes: ['task.completed'] },
      caller,
      { keyring: service.llm.keyring, webhooks },
    );
    const emitter: Emitter = {
      emit: (n) =>
        emitWebhookEvent(
          { type: 'task.completed', teamId: endpoint.teamId, ownerId: owner.id, data: { n } },
          {},
          { pubsub, webhooks },
        ),
    };
    line(
      'worker',
      `concurrency ${config.tasks.concurrency}, poll ${config.tasks.pollMs} ms (defaults)`,
    );
    // Warm-up: connections, prepared statements, the JIT.
    await waitAll(receiver, (await emitPaced(emitter, 50, RATE_PER_SECOND)).keys(), 10_000);
    const emittedAt = await emitPaced(emitter, DELIVERIES, RATE_PER_SECOND);
    await waitAll(receiver, emittedAt.keys(), 30_000);
    latencyPhase(receiver, emittedAt);
    await outagePhase(receiver, emitter);
  } finally {
    await receiver.close();
    await worker.stop(1_000);
    await service.close();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}
