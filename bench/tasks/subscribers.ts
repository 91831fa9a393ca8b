// The fan-out benchmark's clients, in their own process: SUBSCRIPTIONS taskProgress
// subscriptions to one task over graphql-sse single-connection streams (PER_CLIENT
// subscriptions per stream). Prints "subscribed" once every subscription got its first
// event, then one JSON line once all have completed: `latencies` (each event's `at`, stamped
// by the worker's statement, to its arrival) and `arrivals` (per sequence, the arrival
// times, for the bench to subtract the worker's publish times from).
// Received = the arrival of the chunk that completes a message in this process (the light
// client parses after the run: one process stands in for thousands of subscribers, and
// parsing every one's messages on arrival would queue their arrivals behind each other).
// CLIENT=light (default): the minimal graphql-sse client of stream-client.ts; ws: the
// minimal graphql-ws client of ws-client.ts (PER_CLIENT subscriptions per connection);
// multipart: one multipart response per subscription (multipart-client.ts);
// graphql-sse: graphql-sse's own client (PER_CLIENT=1: distinct connections).
import { createClient } from 'graphql-sse';
import { openMultipart } from './multipart-client.js';
import { openStream, type StreamMessage } from './stream-client.js';
import { openWs } from './ws-client.js';

const url = process.env.URL!;
const key = process.env.KEY!;
const taskId = process.env.TASK_ID!;
const total = Number(process.env.SUBSCRIPTIONS);
const perClient = Number(process.env.PER_CLIENT ?? 100);
const clientKind = process.env.CLIENT ?? 'light';
// QUERY and FIELD: another subscription with the same shape (the workflow bench's workflowProgress).
const query =
  process.env.QUERY ??
  'subscription($id: ID!) { taskProgress(taskId: $id) { sequence status at } }';
const field = process.env.FIELD ?? 'taskProgress';
type Progress = Record<string, { sequence: number; status: string; at: string }>;

const latencies: number[] = [];
const arrivals: Record<number, number[]> = {};
let firstEvents = 0;
let completed = 0;
let resolveAll: () => void = () => {};
// Subscribe in waves of WAVE, each after the previous wave got its first events: the
// registration requests would otherwise all hit the listen backlog at once.
const WAVE = 250;
let waveReady: () => void = () => {};
const allCompleted = new Promise<void>((resolve) => (resolveAll = resolve));
let resolveSubscribed: () => void = () => {};
const allSubscribed = new Promise<void>((resolve) => (resolveSubscribed = resolve));

/** One subscription's sink: its first event is the current state, the rest are timed. */
function sink() {
  let first = true;
  return {
    next(payload: { data?: unknown; errors?: unknown }, receivedAt = Date.now()) {
      if (payload.errors) {
        console.error(`subscription failed: ${JSON.stringify(payload.errors)}`);
        process.exit(2);
      }
      if (first) {
        first = false;
        if (++firstEvents === total) {
          console.log('subscribed');
          resolveSubscribed();
        }
        if (firstEvents % WAVE === 0) waveReady();
        return;
      }
      const { sequence, at } = (payload.data as Progress)[field]!;
      const latency = receivedAt - Date.parse(at);
      latencies.push(latency);
      (arrivals[sequence] ??= []).push(receivedAt);
    },
    complete() {
      if (++completed === total) resolveAll();
    },
  };
}

type Sink = ReturnType<typeof sink>;
type Subscribe = (i: number, sink: Sink) => void;
let subscribe: Subscribe;
let dispose: () => void;
/** Once subscribed: the light client records chunks and parses them after the last completion. */
let record: () => Promise<void> = async () => {};
if (clientKind === 'graphql-sse') {
  const clients = Array.from({ length: Math.ceil(total / perClient) }, () =>
    createClient({
      url,
      singleConnection: perClient > 1,
      headers: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    }),
  );
  subscribe = (i, s) =>
    clients[i % clients.length]!.subscribe(
      { query, variables: { id: taskId } },
      { next: s.next, complete: s.complete, error: (error) => s.next({ errors: [String(error)] }) },
    );
  dispose = () => clients.forEach((client) => client.dispose());
} else {
  const sinks = new Map<string, Sink>();
  const onMessage = (message: StreamMessage, receivedAt: number) => {
    const target = sinks.get(message.id)!;
    if (message.event === 'next') target.next(message.payload!, receivedAt);
    else target.complete();
  };
  // Multipart has one subscription per response: one opener makes them all.
  const streams =
    clientKind === 'multipart'
      ? [openMultipart(url, key, onMessage)]
      : await Promise.all(
          Array.from({ length: Math.ceil(total / perClient) }, () =>
            (clientKind === 'ws' ? openWs : openStream)(url, key, onMessage),
          ),
        );
  subscribe = (i, s) => {
    const id = String(i);
    sinks.set(id, s);
    void streams[i % streams.length]!.subscribe(id, query, { id: taskId }).catch((error) =>
      s.next({ errors: [String(error)] }),
    );
  };
  dispose = () => streams.forEach((stream) => stream.close());
  record = async () => {
    let completions = 0;
    await new Promise<void>((resolve) => {
      for (const stream of streams) stream.record(() => ++completions === total && resolve());
    });
    for (const stream of streams) stream.replay();
  };
}

for (let i = 0; i < total; i++) {
  if (i > 0 && i % WAVE === 0)
    await new Promise<void>((resolve) => ((waveReady = resolve), firstEvents >= i && resolve()));
  subscribe(i, sink());
}
await allSubscribed;
await record();
await allCompleted;
dispose();
// Exit only once the (large) line is flushed: process.exit would cut a piped stdout short.
process.stdout.write(`${JSON.stringify({ latencies, arrivals })}\n`, () => process.exit(0));
