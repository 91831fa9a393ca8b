// The fan-out benchmark's clients, in their own process: SUBSCRIPTIONS taskProgress
// subscriptions to one task over graphql-sse single-connection streams (PER_CLIENT
// subscriptions per stream). Prints "subscribed" once every subscription got its first
// event, then a JSON line of publish→receive latencies once all have completed.
import { createClient } from 'graphql-sse';

const url = process.env.URL!;
const key = process.env.KEY!;
const taskId = process.env.TASK_ID!;
const total = Number(process.env.SUBSCRIPTIONS);
const perClient = Number(process.env.PER_CLIENT ?? 100);
const query = 'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status at } }';

const latencies: number[] = [];
const bySequence: number[][] = [];
let firstEvents = 0;
let completed = 0;
// PER_CLIENT=1: distinct connections (one event stream per subscription).
const singleConnection = perClient > 1;
const clients = Array.from({ length: Math.ceil(total / perClient) }, () =>
  createClient({ url, singleConnection, headers: { authorization: `Bearer ${key}` }, retryAttempts: 0 }),
);
// Subscribe in waves of WAVE, each after the previous wave got its first events: the
// registration requests would otherwise all hit the listen backlog at once.
const WAVE = 250;
let waveReady: () => void = () => {};
await new Promise<void>(async (resolveAll, reject) => {
  for (let i = 0; i < total; i++) {
    if (i > 0 && i % WAVE === 0) await new Promise<void>((resolve) => ((waveReady = resolve), firstEvents >= i && resolve()));
    let first = true;
    clients[i % clients.length]!.subscribe<{ taskProgress: { sequence: number; status: string; at: string } }>(
      { query, variables: { id: taskId } },
      {
        next: ({ data, errors }) => {
          if (errors) {
            console.error(`subscription ${i} failed: ${JSON.stringify(errors)}`);
            process.exit(2);
          }
          if (first) {
            first = false;
            if (++firstEvents === total) console.log('subscribed');
            if (firstEvents % WAVE === 0) waveReady();
            return;
          }
          const latency = Date.now() - Date.parse(data!.taskProgress.at);
          latencies.push(latency);
          if (process.env.BENCH_DEBUG) (bySequence[data!.taskProgress.sequence] ??= []).push(latency);
        },
        error: reject,
        complete: () => {
          if (++completed === total) resolveAll();
        },
      },
    );
  }
});
for (const client of clients) client.dispose();
if (process.env.BENCH_DEBUG) {
  for (const [sequence, values] of bySequence.entries()) {
    if (!values) continue;
    values.sort((a, b) => a - b);
    console.error(`sequence ${sequence}: min ${values[0]} p50 ${values[values.length >> 1]} max ${values.at(-1)} ms`);
  }
}
// Exit only once the (large) line is flushed: process.exit would cut a piped stdout short.
process.stdout.write(`${JSON.stringify({ latencies })}\n`, () => process.exit(0));
