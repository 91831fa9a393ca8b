// benchPluginDelivery: an integration plugin (the documented Slack example) fed report.completed
// events through the real path (emitWebhookEvent inserts each message and its webhook_delivery
// task; a worker with the production engine settings renders the plugin's POST, signs and
// sends it) to a local stand-in for hooks.slack.com answering in 20 ms. Prints event →
// POST received (the receiver has read the body) p50/p99 against the 100 ms target.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, db, disconnectDatabase } from '../../src/platform/db.js';
import { loadConfig } from '../../src/platform/config.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { publicId } from '../../src/platform/public-ids.js';
import { operatorCaller } from '../../src/services/auth/caller.js';
import { defaultTeamId } from '../../src/services/auth/default-team.js';
import { installPlugin } from '../../src/services/plugins/installations.js';
import { emitWebhookEvent } from '../../src/services/webhooks/emit.js';
import { startServiceWorker } from '../../src/workers/index.js';
import { serviceTaskRegistry } from '../../src/workers/tasks/index.js';
import { openFreshBenchDatabase } from '../database.js';
import { benchService } from '../service.js';
import { formatSummary, heading, line, ms, summarize } from '../stats.js';
import { check, type Target } from '../workflows/targets.js';

const EVENTS = Number(process.env.BENCH_PLUGINS_EVENTS ?? 1_000);
const RATE_PER_SECOND = Number(process.env.BENCH_PLUGINS_RATE ?? 100);
const RECEIVER_MS = 20;
const TARGET_P99_MS = 100;

/** The stand-in: when each POST (by webhook-id) was received, then a 200 after RECEIVER_MS. */
async function receiver() {
  const receivedAt = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if (!receivedAt.has(id)) receivedAt.set(id, performance.now());
      setTimeout(() => res.end('ok'), RECEIVER_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    receivedAt,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The documented Slack example, installed in the `default` team by the operator. */
async function installSlack(
  keyring: Parameters<typeof installPlugin>[2]['keyring'],
  webhooks: Parameters<typeof installPlugin>[2]['webhooks'],
) {
  const owner = await db().user.upsert({
    where: { name: 'admin' },
    create: { name: 'admin' },
    update: {},
  });
  const teamId = await defaultTeamId();
  const manifest = JSON.parse(
    readFileSync(new URL('../../docs/examples/slack-notifier.json', import.meta.url), 'utf8'),
  );
  await installPlugin(
    {
      teamId,
      manifest,
      grantedScopes: manifest.scopes,
      config: { channel: '#bench' },
      secrets: [{ name: 'SLACK_WEBHOOK_URL', value: 'https://hooks.slack.com/services/T/B/x' }],
    },
    operatorCaller(owner, teamId),
    { keyring, webhooks },
  );
  return { owner, teamId };
}

export async function benchPluginDelivery(): Promise<Target[]> {
  const database = await openFreshBenchDatabase(
    process.env.BENCH_PLUGINS_DATABASE ?? 'agent_growth_bench_plugins',
  );
  connectDatabase(database.url, { poolSize: 10 });
  const pubsub = createInProcessPubSub('bench-plugins:');
  const service = await benchService();
  const config = loadConfig({ DATABASE_URL: database.url });
  const stand = await receiver();
  const webhooks = {
    ...service.webhooks,
    ...config.webhooks,
    allowPrivateTargets: true,
    pluginOriginOverrides: { 'https://hooks.slack.com': stand.origin },
  };
  const registry = serviceTaskRegistry({ ...service, webhooks });
  const worker = await startServiceWorker({ tasks: config.tasks, pubsub, registry, webhooks });
  try {
    const { owner, teamId } = await installSlack(service.llm.keyring, webhooks);
    const topic = await db().topic.create({
      data: { teamId, ownerId: owner.id, topic: 'Bench report', status: 'COMPLETED' },
    });
    const emit = () =>
      emitWebhookEvent(
        {
          type: 'report.completed',
          teamId,
          ownerId: owner.id,
          data: { topicId: publicId('Topic', topic.id), status: 'COMPLETED' },
        },
        {},
        { pubsub, webhooks },
      );
    /** `count` events at RATE_PER_SECOND; webhook-id → when its event was emitted. */
    const emitPaced = async (count: number) => {
      const emittedAt = new Map<string, number>();
      const start = performance.now();
      for (let n = 0; n < count; n++) {
        const wait = start + (n * 1_000) / RATE_PER_SECOND - performance.now();
        if (wait > 0) await sleep(wait);
        const before = performance.now();
        for (const id of await emit()) emittedAt.set(`msg_${id}`, before);
      }
      return emittedAt;
    };
    const waitAll = async (ids: Iterable<string>, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs;
      const wanted = [...ids];
      while (performance.now() < deadline && !wanted.every((id) => stand.receivedAt.has(id)))
        await sleep(100);
    };
    // Warm-up: connections, prepared statements, the JIT.
    await waitAll((await emitPaced(50)).keys(), 10_000);
    const emittedAt = await emitPaced(EVENTS);
    await waitAll(emittedAt.keys(), 30_000);
    const latencies = [...emittedAt].flatMap(([id, at]) => {
      const received = stand.receivedAt.get(id);
      return received === undefined ? [] : [received - at];
    });
    const summary = summarize(latencies);
    heading(
      `plugins: ${EVENTS} report.completed at ${RATE_PER_SECOND}/s to the Slack example, ` +
        `receiver answering in ${RECEIVER_MS} ms`,
    );
    line('event → POST received', formatSummary(summary));
    line(
      `p99 vs target ${TARGET_P99_MS} ms`,
      `${(summary.p99 / TARGET_P99_MS).toFixed(2)}× the target (${summary.p99 <= TARGET_P99_MS ? 'met' : 'NOT met'})`,
    );
    line('delivered', `${latencies.length} of ${emittedAt.size}`);
    line('worker', `concurrency ${config.tasks.concurrency}, poll ${config.tasks.pollMs} ms`);
    line('receiver alone', ms(RECEIVER_MS));
    return [
      check(`plugin event → POST p99`, summary.p99, TARGET_P99_MS),
      check('plugin events lost', emittedAt.size - latencies.length, 0),
    ];
  } finally {
    await stand.close();
    await worker.stop(1_000);
    await service.close();
    await pubsub.close();
    await disconnectDatabase();
    await database.stop();
  }
}
