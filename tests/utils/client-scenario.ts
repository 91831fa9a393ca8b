// What every client test does with its client, as a frontend would: create an agent (a
// mutation), start a background coverage refresh (a mutation), follow the task from PENDING
// to COMPLETED (taskProgress), read it back (a query), and stream a query of the agent's
// knowledge (agentQueryStream), checking every event against the database and queryAgent.
import { expect } from 'vitest';
import { db } from '../../src/platform/db.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { createCorpus } from './corpus.js';
import type { Harness, TestApp } from './harness.js';
import { waitFor } from './wait.js';

/** A GraphQL client as the tests drive it; `subscribe` resolves with every result once the server completes. */
export interface ClientUnderTest {
  request(
    document: string,
    variables?: Record<string, unknown>,
  ): Promise<{ data?: any; errors?: readonly unknown[] }>;
  subscribe(
    document: string,
    variables: Record<string, unknown>,
    onResult: (result: { data?: any; errors?: readonly any[] }) => void,
  ): Promise<void>;
}

const CREATE_AGENT = `mutation($input: CreateAgentInput!) { createAgentFromTaxonomy(input: $input) { id name } }`;
const REFRESH = `mutation($agentId: ID!) { refreshCoverage(input: { agentId: $agentId }) { task { id status } } }`;
const PROGRESS = `subscription($taskId: ID!) { taskProgress(taskId: $taskId) { sequence status progressPercent task { id } } }`;
const TASK = `query($id: ID!) { task(id: $id) { id status progressPercent result } }`;
const SEARCH = `query($agentId: ID!, $query: String!) { queryAgent(agentId: $agentId, query: $query, topK: 5) { totalResults hits { chunkId title } } }`;
const STREAM = `subscription($agentId: ID!, $query: String!) { agentQueryStream(agentId: $agentId, query: $query, topK: 5) {
  __typename ... on QueryStarted { query } ... on QueryHit { hit { index chunkId title } } ... on QueryCompleted { totalResults } } }`;

function data(result: { data?: any; errors?: readonly unknown[] }) {
  expect(result.errors ?? []).toEqual([]);
  return result.data;
}

/** Follows a background task from PENDING to COMPLETED and streams a query, through `client`. */
export async function followTaskAndStreamQuery(
  h: Harness,
  app: TestApp,
  client: ClientUnderTest,
): Promise<void> {
  const corpus = await createCorpus(h);
  const input = {
    name: 'Client agent',
    taxonomyVersion: corpus.version,
    taxonomyNodeIds: [corpus.nodeIds.ai, corpus.nodeIds.tech],
  };
  const agent = data(await client.request(CREATE_AGENT, { input })).createAgentFromTaxonomy;
  expect(await db().agent.count({ where: { id: parseGlobalId('Agent', agent.id)! } })).toBe(1);
  // No worker yet: the task waits, so its first event is PENDING.
  await h.stopWorkers();
  const task = data(await client.request(REFRESH, { agentId: agent.id })).refreshCoverage.task;
  expect(task.status).toBe('PENDING');
  const events: any[] = [];
  const followed = client.subscribe(PROGRESS, { taskId: task.id }, (result) =>
    events.push(data(result).taskProgress),
  );
  await waitFor(async () => events.length > 0, 'the first taskProgress event');
  await h.startWorker(app.pubsub);
  await followed;
  expect(events[0].status).toBe('PENDING');
  expect(events.at(-1).status).toBe('COMPLETED');
  // Every event of the log, in order (a task that ends before its start is recorded has no
  // RUNNING event: its end is its second).
  const sequences = events.map((event) => event.sequence);
  expect(sequences).toEqual(sequences.map((_, i) => sequences[0] + i));
  const stored = await db().taskEvent.findMany({
    where: { taskId: parseGlobalId('Task', task.id)! },
    orderBy: { sequence: 'asc' },
  });
  expect(sequences.at(-1)).toBe(stored.at(-1)!.sequence);
  expect(events.map((event) => event.status)).toEqual(
    stored.slice(sequences[0] - 1).map((event) => event.status),
  );
  expect(events.every((event) => event.task.id === task.id)).toBe(true);
  const row = await db().task.findUniqueOrThrow({
    where: { id: parseGlobalId('Task', task.id)! },
  });
  expect(row.status).toBe('COMPLETED');
  expect(data(await client.request(TASK, { id: task.id })).task).toMatchObject({
    id: task.id,
    status: 'COMPLETED',
    progressPercent: 100,
  });
  await streamsQuery(client, agent.id);
}

async function streamsQuery(client: ClientUnderTest, agentId: string): Promise<void> {
  const query = 'gradient descent learning';
  const { hits: ranked, totalResults } = data(
    await client.request(SEARCH, { agentId, query }),
  ).queryAgent;
  expect(ranked.length).toBeGreaterThan(0);
  const streamed: any[] = [];
  await client.subscribe(STREAM, { agentId, query }, (result) =>
    streamed.push(data(result).agentQueryStream),
  );
  expect(streamed[0]).toEqual({ __typename: 'QueryStarted', query });
  const hits = streamed
    .filter((event) => event.__typename === 'QueryHit')
    .map((event) => event.hit);
  expect(hits.map((hit) => hit.chunkId)).toEqual(
    ranked.map((hit: { chunkId: string }) => hit.chunkId),
  );
  expect(hits.map((hit) => hit.index)).toEqual(hits.map((_, index) => index));
  expect(streamed.at(-1)).toEqual({ __typename: 'QueryCompleted', totalResults });
  expect(totalResults).toBeGreaterThanOrEqual(hits.length);
}
