// The main lists through GraphQL in-process (app.fetch: auth, Pothos, Prisma), as one member
// of one team: agents, tasks and templates, first 50 with their total.
import type { App } from '../../src/http/app.js';
import { timeRuns } from '../stats.js';

export const LISTS = {
  'agents(first: 50)': '{ agents(first: 50) { totalCount edges { node { id name createdAt } } } }',
  'tasks(first: 50)': '{ tasks(first: 50) { totalCount edges { node { id status createdAt } } } }',
  'templates(first: 50)': '{ templates(first: 50) { totalCount edges { node { id name } } } }',
} as const;

export type ListName = keyof typeof LISTS;

export async function request(app: App, key: string, query: string): Promise<any> {
  const response = await app.fetch(
    new Request('http://bench.local/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    }),
  );
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** What a list's first page holds: "page 20 of 20". */
export async function pageOf(app: App, key: string, name: ListName): Promise<string> {
  const data = await request(app, key, LISTS[name]);
  const connection = Object.values(data)[0] as { totalCount: number; edges: unknown[] };
  return `page ${connection.edges.length} of ${connection.totalCount}`;
}

/** One round: each list `runs` times after `warmup` untimed runs, one after the other. */
export async function listRound(
  app: App,
  key: string,
  runs: number,
  warmup: number,
): Promise<Record<ListName, number[]>> {
  const samples = {} as Record<ListName, number[]>;
  for (const [name, query] of Object.entries(LISTS) as Array<[ListName, string]>)
    samples[name] = await timeRuns(runs, () => request(app, key, query), warmup);
  return samples;
}
