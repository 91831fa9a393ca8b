// The soak's subscribers: agentUpdated over both graphql-sse modes, each remembering the last
// update it saw, with the event latencies and errors of them all.
import { createClient, type Client } from 'graphql-sse';
import { AGENTS, HEADERS, SUBSCRIPTIONS } from './settings.js';

interface Subscriber {
  agent: number;
  seq: number;
  mode: 'single' | 'distinct';
  ended: boolean;
}

/** Every subscription, half on single-connection streams (100 each), half on their own connections. */
export function subscribeAll(url: string, agents: string[], startedAt: number) {
  // Headers as a function: the client writes its stream token into a headers object, which
  // clients must not share.
  const headers = () => ({ ...HEADERS });
  const single = Array.from({ length: Math.ceil(SUBSCRIPTIONS / 2 / 100) }, () =>
    createClient({ url: `${url}/stream`, headers, singleConnection: true, retryAttempts: 5 }),
  );
  const distinct = createClient({
    url: `${url}/stream`,
    headers,
    singleConnection: false,
    retryAttempts: 5,
  });
  const stats = {
    latencies: [] as Array<[number, number]>,
    errors: 0,
    received: 0,
    subscribers: [] as Subscriber[],
  };
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const mine: Subscriber = {
      agent: i % AGENTS,
      seq: -1,
      mode: i % 2 === 0 ? 'single' : 'distinct',
      ended: false,
    };
    stats.subscribers.push(mine);
    const client: Client<boolean> = i % 2 === 0 ? single[Math.floor(i / 2 / 100)]! : distinct;
    client.subscribe<{ agentUpdated: { scopeDescription: string | null } }>(
      {
        query: 'subscription($id: ID!) { agentUpdated(id: $id) { scopeDescription } }',
        variables: { id: agents[mine.agent] },
      },
      {
        next: (result) => {
          if (result.errors) stats.errors++;
          const match = /^soak (\d+) (\d+)$/.exec(result.data?.agentUpdated.scopeDescription ?? '');
          if (!match) return;
          stats.received++;
          mine.seq = Number(match[1]);
          stats.latencies.push([Date.now() - startedAt, Date.now() - Number(match[2])]);
        },
        error: (error: unknown) => {
          stats.errors++;
          mine.ended = true;
          if (stats.errors <= 3)
            console.error(
              `subscription error: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
            );
        },
        complete: () => {
          mine.ended = true;
        },
      },
    );
  }
  return { stats, dispose: () => [...single, distinct].forEach((client) => client.dispose()) };
}
