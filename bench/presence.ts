// `npm run bench -- presence`: 1,000 `presence` subscribers on one topic, each another user,
// across 2 API processes (src/main.ts, ROLE=api, on one Redis) over graphql-sse (distinct
// connections); then one more
// user joins (and leaves) the topic, ROUNDS times, each time on the next process: the time
// from the newcomer's subscribe request until every subscriber saw the join, and the leave.
// Baseline, in the same run: a topic with 1 subscriber. The subscribers run in their own
// process (bench/presence-client.ts); all times are the same host's clock (epoch ms).
import { createHash, randomBytes } from 'node:crypto';
import { connectDatabase, db, disconnectDatabase } from '../src/platform/db.js';
import { toGlobalId } from '../src/schema/ids.js';
import { openFreshBenchDatabase } from './database.js';
import { machine } from './machine.js';
import { formatSummary, heading, line, summarize } from './stats.js';
import { spawnBenchScript, type BenchChild } from './tasks/processes.js';
import { openPresenceStream } from './presence-stream.js';
import { benchPluginDelivery } from './plugins/run.js';
import { check, printTargets, type Target } from './workflows/targets.js';

const SUBSCRIBERS = Number(process.env.BENCH_PRESENCE_SUBSCRIBERS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_PRESENCE_ROUNDS ?? 20);
const ADMIN_KEY = 'bench-admin-key-0123456789';
const NEWCOMER = 'presence-newcomer';
const QUERY = 'subscription($id: ID!) { presence(channel: TOPIC, id: $id) { joined } }';

interface World {
  /** The subscribers' keys (the last is the baseline topic's one subscriber). */
  keys: string[];
  newcomerKey: string;
  topic: string;
  baselineTopic: string;
}

/** A team of SUBSCRIBERS + 2 members with a READ key each, and two topics of it, in SQL. */
async function world(): Promise<World> {
  const [team] = await db().$queryRaw<Array<{ id: string }>>`
    INSERT INTO teams (slug, name) VALUES ('presence-bench', 'Presence bench') RETURNING id::text`;
  const users = [...Array.from({ length: SUBSCRIBERS + 1 }, (_, i) => `presence-${i}`), NEWCOMER];
  const keys = users.map(() => `agk_${randomBytes(32).toString('base64url')}`);
  await db().$executeRaw`
    WITH u AS (INSERT INTO users (name) SELECT unnest(${users}::text[]) RETURNING id, name)
    INSERT INTO team_members ("teamId", "userId", role) SELECT ${team!.id}::uuid, id, 'MEMBER' FROM u`;
  await db().$executeRaw`
    INSERT INTO api_keys ("userId", "teamId", name, "keyHash", prefix, scopes)
    SELECT u.id, ${team!.id}::uuid, 'bench', k.hash, left(k.key, 10), '{READ}'
    FROM unnest(${users}::text[], ${keys}::text[], ${keys.map(sha256)}::text[]) AS k(name, key, hash)
    JOIN users u ON u.name = k.name`;
  const topics = await db().$queryRaw<Array<{ id: string }>>`
    INSERT INTO topics ("teamId", "ownerId", topic)
    SELECT ${team!.id}::uuid, (SELECT id FROM users WHERE name = 'presence-0'), t
    FROM unnest(ARRAY['Watched', 'Baseline']) t RETURNING id::text`;
  return {
    keys: keys.slice(0, -1),
    newcomerKey: keys.at(-1)!,
    topic: toGlobalId('Topic', topics[0]!.id),
    baselineTopic: toGlobalId('Topic', topics[1]!.id),
  };
}

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

/** An API process (src/main.ts, ROLE=api) on a free port: its child and origin. */
export async function apiProcess(
  env: Record<string, string>,
): Promise<{ child: BenchChild; url: string }> {
  const child = spawnBenchScript('src/main.ts', { ...env, ROLE: 'api', PORT: '0' });
  const ready = await child.waitFor(/GraphiQL:\s+(http:\/\/\S+)\/graphql/);
  return { child, url: /(http:\/\/\S+)\/graphql/.exec(ready)![1]! };
}

interface Round {
  /** Each subscriber's time from the newcomer's request to its event. */
  each: number[];
  /** Until the last subscriber had it. */
  all: number;
}

/** The newcomer joins `topic` and leaves it, ROUNDS times, on each process in turn. */
async function rounds(
  urls: string[],
  subscribers: BenchChild,
  newcomerKey: string,
  topic: string,
): Promise<{ joins: Round[]; leaves: Round[] }> {
  const joins: Round[] = [];
  const leaves: Round[] = [];
  const seen = async (kind: string, round: number, from: number): Promise<Round> => {
    const pattern = new RegExp(
      `^\\{"topic":"${topic}","kind":"${kind}","round":${round},.*\\}$`,
      'm',
    );
    const { times } = JSON.parse(await subscribers.waitFor(pattern)) as { times: number[] };
    const each = times.map((at) => at - from);
    return { each, all: Math.max(...each) };
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const joinedAt = Date.now();
    const url = `${urls[round % urls.length]}/graphql/stream`;
    const stream = await openPresenceStream(url, newcomerKey, QUERY, topic, () => {});
    joins.push(await seen('join', round, joinedAt));
    const leftAt = Date.now();
    stream.destroy();
    leaves.push(await seen('leave', round, leftAt));
  }
  return { joins, leaves };
}

function report(label: string, result: { joins: Round[]; leaves: Round[] }) {
  const allJoined = summarize(result.joins.map((r) => r.all));
  line(
    `${label}: join, each subscriber`,
    formatSummary(summarize(result.joins.flatMap((r) => r.each))),
  );
  line(`${label}: join, until all saw it`, formatSummary(allJoined));
  line(
    `${label}: leave, until all saw it`,
    formatSummary(summarize(result.leaves.map((r) => r.all))),
  );
  return allJoined;
}

/**
 * The join half of the presence benchmark: its figures printed, its targets returned (the
 * caller prints them, beside those of other halves).
 */
export async function benchPresenceJoins(): Promise<Target[]> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    line('presence', 'skipped: REDIS_URL is not set (presence crosses processes through Redis)');
    return [];
  }
  const database = await openFreshBenchDatabase('agent_growth_bench_presence');
  connectDatabase(database.url, { poolSize: 4 });
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    PUBSUB_PREFIX: `bench:presence:${Date.now()}:`,
    ADMIN_API_KEY: ADMIN_KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    MAX_OPEN_SUBSCRIPTIONS_PER_KEY: '0',
  };
  const children: BenchChild[] = [];
  try {
    const w = await world();
    const apis = await Promise.all([apiProcess(env), apiProcess(env)]);
    children.push(...apis.map((api) => api.child));
    const urls = apis.map((api) => api.url);
    const subscribers = spawnBenchScript('bench/presence-client.ts', {
      URLS: urls.join(','),
      KEYS: JSON.stringify(w.keys),
      TOPICS: JSON.stringify([...Array(SUBSCRIBERS).fill(w.topic), w.baselineTopic]),
      NEWCOMER,
    });
    children.push(subscribers);
    subscribers.child.setMaxListeners(0); // one waitFor per round
    await subscribers.waitFor(/^subscribed$/m);
    await machine();
    heading(
      `presence: ${SUBSCRIBERS} subscribers on one topic across 2 API processes (graphql-sse)`,
    );
    report(
      'baseline, 1 subscriber',
      await rounds(urls, subscribers, w.newcomerKey, w.baselineTopic),
    );
    const many = report(
      `${SUBSCRIBERS} subscribers`,
      await rounds(urls, subscribers, w.newcomerKey, w.topic),
    );
    return [check(`presence join seen by all ${SUBSCRIBERS} p99`, many.p99, 200)];
  } finally {
    for (const child of children.reverse()) await child.stop();
    await disconnectDatabase();
    await database.stop();
  }
}

/** `npm run bench -- presence`: every half, then its targets. */
export async function benchPresence(): Promise<void> {
  const targets = [...(await benchPresenceJoins()), ...(await benchPluginDelivery())];
  heading('presence targets');
  printTargets(targets);
}
