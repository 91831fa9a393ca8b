// queryAgent over the query classes, for each search agent, through GraphQL in process:
// p50/p99 per class beside the same run's `{ __typename }`, the plan each class took and
// the postings the threshold algorithm read. Target: p99 under 50 ms for every class.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { App } from '../src/http/app.js';
import { db } from '../src/platform/db.js';
import { parseQuery } from '../src/services/search/query-syntax.js';
import { rankChunks } from '../src/services/search/ranking.js';
import { selectScopeStatistics } from '../src/services/search/sql/scope-statistics.js';
import { gql } from './graphql.js';
import type { BenchContext } from './bench-context.js';
import { queryClasses, type QueryClass } from './query-classes.js';
import { searchAgents, type SearchAgent } from './search-agents.js';
import { checkTarget, formatSummary, line, ratio, summarize, type TargetCheck } from './stats.js';

const TARGET_P99_MS = 50;
const REPS = 5;
/** A class that is slow stops being sampled after this long (its n says how many runs it got). */
export const CLASS_BUDGET_MS = 15_000;
const QUERY_AGENT =
  'query($id: ID!, $q: String!) { queryAgent(agentId: $id, query: $q, topK: 10) { totalResults totalResultsIsEstimate hits { chunkId score } } }';

/** How each query of a class was answered: plans, postings read, matches. */
async function describeClass(agent: SearchAgent, queryClass: QueryClass): Promise<string> {
  const plans = new Map<string, number>();
  const read: number[] = [];
  const totals: number[] = [];
  for (const query of queryClass.queries) {
    const parsed = parseQuery(query);
    const ranking = await rankChunks(
      db(),
      await selectScopeStatistics(db(), agent.id, parsed, null),
      10,
    );
    plans.set(ranking.plan, (plans.get(ranking.plan) ?? 0) + 1);
    if (ranking.postingsRead !== undefined) read.push(ranking.postingsRead);
    totals.push(ranking.total);
  }
  const plan = [...plans].map(([name, n]) => `${name} x${n}`).join(', ');
  const postings = read.length
    ? `; threshold read p50 ${summarize(read).p50} max ${summarize(read).max} postings`
    : '';
  return `${plan}${postings}; matches p50 ${summarize(totals).p50.toLocaleString('en-US')}`;
}

async function timeClass(app: App, agent: SearchAgent, queryClass: QueryClass): Promise<number[]> {
  const id = encodeGlobalID('Agent', agent.id);
  const samples: number[] = [];
  const started = performance.now();
  for (const q of queryClass.queries) {
    if (performance.now() - started > CLASS_BUDGET_MS) break;
    await gql(app, QUERY_AGENT, { id, q }); // warm-up
    for (let i = 0; i < REPS; i++) {
      const started = performance.now();
      await gql(app, QUERY_AGENT, { id, q });
      samples.push(performance.now() - started);
    }
  }
  return samples;
}

export async function benchQueryAgent(
  context: BenchContext,
  app: App,
  baseline: number,
): Promise<TargetCheck[]> {
  const classes = await queryClasses();
  for (const queryClass of classes)
    line(
      `class: ${queryClass.label}`,
      queryClass.queries
        .slice(0, 3)
        .map((q) => JSON.stringify(q))
        .join(', ') + ', …',
    );
  const checks: TargetCheck[] = [];
  for (const agent of await searchAgents(context.corpus)) {
    for (const queryClass of classes) {
      const summary = summarize(await timeClass(app, agent, queryClass));
      line(
        `queryAgent ${agent.label}, ${queryClass.label}`,
        `${formatSummary(summary)} (p50 ${ratio(summary.p50, baseline)})`,
      );
      line('', await describeClass(agent, queryClass));
      checks.push(
        checkTarget(
          `queryAgent p99, ${agent.label}, ${queryClass.label}`,
          summary.p99,
          TARGET_P99_MS,
        ),
      );
    }
  }
  return checks;
}
