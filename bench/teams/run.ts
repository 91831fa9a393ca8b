// `npm run bench -- teams`: what teams cost. The main lists — agents(first: 50),
// tasks(first: 50), templates(first: 50) — through GraphQL in-process as a member of one team,
// with that team alone in its database and among 1,000 teams × 20 members with their objects
// in another, measured in alternating rounds: the ratio is the target (within 10 %). Then a
// removed member's key refused by every API process (apps on one Redis): p99 ≤ 100 ms.
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { machine } from '../machine.js';
import { benchApp } from '../service.js';
import { formatSummary, heading, line, ms, summarize, type Summary } from '../stats.js';
import { MEMBERS_PER_TEAM, PER_TEAM, PUBLIC_TEMPLATES } from './fixture.js';
import { LISTS, listRound, pageOf, type ListName } from './lists.js';
import { measureRemovals, printRemovals } from './propagation.js';
import { buildWorld, inWorld, type World } from './worlds.js';

const TEAMS = Number(process.env.BENCH_TEAMS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_TEAMS_ROUNDS ?? 64);
const RUNS_PER_ROUND = Number(process.env.BENCH_TEAMS_RUNS ?? 40);
const ADMIN_KEY = 'bench-admin-key-teams-0123456789';

type Samples = Record<ListName, number[]>;

/** Alternating rounds (the order swapped each round), one database connected at a time. */
async function measure(worlds: World[]): Promise<Map<World, Record<ListName, Summary>>> {
  // Each app is made in its own world: its LLM platform records the operator's deployment there.
  const apps: Awaited<ReturnType<typeof benchApp>>[] = [];
  for (const world of worlds)
    apps.push(
      await inWorld(world, () => benchApp(ADMIN_KEY, createInProcessPubSub('bench-teams:'))),
    );
  const samples = worlds.map(() => ({}) as Samples);
  try {
    for (const [index, world] of worlds.entries())
      await inWorld(world, async () => {
        for (const name of Object.keys(LISTS) as ListName[])
          line(`${world.label}: ${name}`, await pageOf(apps[index]!.app, world.key, name));
      });
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...worlds.keys()].reverse() : [...worlds.keys()];
      for (const index of order) {
        const round = await inWorld(worlds[index]!, () =>
          listRound(apps[index]!.app, worlds[index]!.key, RUNS_PER_ROUND, 15),
        );
        for (const [name, values] of Object.entries(round) as Array<[ListName, number[]]>)
          (samples[index]![name] ??= []).push(...values);
      }
    }
  } finally {
    for (const app of apps) await app.close();
  }
  return new Map(
    worlds.map((world, index) => [
      world,
      Object.fromEntries(
        Object.entries(samples[index]!).map(([name, values]) => [name, summarize(values)]),
      ) as Record<ListName, Summary>,
    ]),
  );
}

function compare(alone: Record<ListName, Summary>, among: Record<ListName, Summary>): void {
  heading(`teams: one team of ${TEAMS.toLocaleString('en-US')} vs alone (target: within 10 %)`);
  for (const name of Object.keys(LISTS) as ListName[]) {
    line(`alone: ${name}`, formatSummary(alone[name]));
    line(`among ${TEAMS}: ${name}`, formatSummary(among[name]));
  }
  for (const name of Object.keys(LISTS) as ListName[]) {
    for (const p of ['p50', 'p99'] as const) {
      const ratio = among[name][p] / alone[name][p];
      line(
        `TARGET ${name} ${p}`,
        `${ms(among[name][p])} vs ${ms(alone[name][p])} alone: ${ratio.toFixed(2)}x (target ≤ 1.10): ${ratio <= 1.1 ? 'MET' : 'MISSED'}`,
      );
    }
  }
}

async function removals(world: World): Promise<void> {
  heading('teams: a removed member’s key refused by every API process (target p99 ≤ 100 ms)');
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) return line('skipped', 'REDIS_URL is not set');
  const result = await inWorld(world, () => measureRemovals(redisUrl, ADMIN_KEY, 1));
  printRemovals(result);
  const p99 = result.sinceAnswered.p99;
  line(
    'TARGET refused everywhere, p99',
    `${ms(p99)} after the removal answered, over ${result.repeats} removals × ${result.apps} apps (target ≤ 100 ms): ${p99 <= 100 ? 'MET' : 'MISSED'}`,
  );
}

export async function benchTeams(): Promise<void> {
  heading('teams: building the worlds');
  const alone = await buildWorld('alone', 'agent_growth_bench_teams_one', 1);
  const among = await buildWorld(`among ${TEAMS}`, 'agent_growth_bench_teams', TEAMS);
  try {
    line(
      'each team',
      `${MEMBERS_PER_TEAM} members (also in default), ${PER_TEAM.agents} agents, ${PER_TEAM.tasks} tasks, ${PER_TEAM.topics} topics, ${PER_TEAM.templates} private templates; ${PUBLIC_TEMPLATES} public templates in default`,
    );
    for (const world of [alone, among]) line(`world ${world.label}`, world.counts);
    await inWorld(among, machine);
    heading('teams: the main lists as a member of team 1 (GraphQL in-process)');
    line('rounds', `${ROUNDS} per world, alternating, ${RUNS_PER_ROUND} runs per list each`);
    const results = await measure([alone, among]);
    compare(results.get(alone)!, results.get(among)!);
    await removals(among);
  } finally {
    await alone.stop();
    await among.stop();
  }
}
