// The soak's processes (a private Redis, the API with its inspector open, a worker) and its
// calls to the API.
import type { ChildProcess } from 'node:child_process';
import { freePort, freePorts } from '../../src/platform/free-port.js';
import { start, startRedis } from '../spawn.js';
import { benchAgent } from '../tasks/fixture.js';
import { ADMIN_KEY, AGENTS, HEADERS } from './settings.js';

export async function post<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T & { errors?: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as T & { errors?: unknown };
}

/** A private Redis, the API and a worker; `stop` kills them. */
export async function startServices(databaseUrl: string) {
  const redisPort = await freePort();
  const redis = await startRedis(redisPort);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    ADMIN_API_KEY: ADMIN_KEY,
    PUBSUB_PREFIX: 'soak:',
  };
  const children: ChildProcess[] = [redis];
  const stop = () => children.forEach((child) => child.kill('SIGKILL'));
  try {
    const [port, inspectPort] = await freePorts(2);
    const api = await start(
      process.execPath,
      [`--inspect=127.0.0.1:${inspectPort}`, 'scripts/start.mjs'],
      { ...env, ROLE: 'api', PORT: String(port) },
      /GraphiQL/,
    );
    children.push(api);
    children.push(
      await start(
        process.execPath,
        ['scripts/start.mjs'],
        { ...env, ROLE: 'worker', LOG_LEVEL: 'info' },
        /worker started/,
      ),
    );
    return { url: `http://127.0.0.1:${port}/graphql`, apiPid: api.pid!, inspectPort, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/** AGENTS agents to update: the bench agent and its clones. */
export async function makeAgents(url: string): Promise<string[]> {
  const first = await benchAgent();
  const agents = [first.agentId];
  for (let i = 1; i < AGENTS; i++) {
    const cloned = await post<{ data: { cloneAgent: { id: string } } }>(
      url,
      'mutation($id: ID!) { cloneAgent(id: $id) { id } }',
      { id: first.agentId },
    );
    agents.push(cloned.data.cloneAgent.id);
  }
  return agents;
}
