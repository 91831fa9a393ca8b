// `plan`: planTopic p50/p99 with the local planner, through GraphQL in-process
// (app.fetch: auth, parse, validate, execute, the rate limiter, the topic insert).
// Baseline (same run, same path, same key): `{ viewer { user } }`. Target p99 < 50 ms.
import { planLocally } from '../../src/reports/planner/index.js';
import {
  checkTarget,
  formatSummary,
  heading,
  line,
  ratio,
  summarize,
  timeRuns,
  type TargetCheck,
} from '../stats.js';
import { ok, openTopicBench, SIX_SECTION_GUIDE } from './database.js';

const RUNS = Number(process.env.BENCH_PLAN_RUNS ?? 300);
const PLAN = `mutation($input: PlanTopicInput!) { planTopic(input: $input) { plan sections { title description order } estimatedSectionsCount topic { id status } } }`;

/** Opens (and drops at the end) its own database: call it while no other database is connected. */
export async function benchTopicsPlan(): Promise<TargetCheck[]> {
  const bench = await openTopicBench();
  heading('topics: planTopic (local planner, in-process GraphQL)');
  try {
    const baseline = summarize(
      await timeRuns(RUNS, async () => ok(await bench.gql('{ viewer { user } }'), 'viewer'), 20),
    );
    line('baseline { viewer { user } }', formatSummary(baseline));
    const cases: Array<[string, (i: number) => Record<string, unknown>]> = [
      ['planTopic, no template', (i) => ({ topic: `2025년 AI 에이전트 시장 ${i}` })],
      [
        'planTopic, 6-section template',
        (i) => ({ topic: `2025년 AI 에이전트 시장 ${i}`, templateId: bench.templateId }),
      ],
      [
        'planTopic, template + agent (search, nodes)',
        (i) => ({
          topic: `data governance and security policy ${i}`,
          templateId: bench.templateId,
          agentId: bench.agentId,
        }),
      ],
    ];
    let worst = 0;
    for (const [label, input] of cases) {
      const summary = summarize(
        await timeRuns(
          RUNS,
          async (i) => ok(await bench.gql(PLAN, { input: input(i) }), label),
          20,
        ),
      );
      line(
        label,
        `${formatSummary(summary)}  p50 ${ratio(summary.p50, baseline.p50)}, p99 ${ratio(summary.p99, baseline.p99)}`,
      );
      worst = Math.max(worst, summary.p99);
    }
    // The planner alone (pure function), for scale.
    const context = {
      topic: '2025년 AI 에이전트 시장',
      language: 'ko' as const,
      template: { name: 't', promptSystem: SIX_SECTION_GUIDE },
      agent: null,
    };
    const pure = summarize(await timeRuns(2_000, async () => planLocally(context), 100));
    line('planLocally() alone (no I/O)', formatSummary(pure));
    return [checkTarget('planTopic p99 (worst case above)', worst, 50)];
  } finally {
    await bench.close();
  }
}
