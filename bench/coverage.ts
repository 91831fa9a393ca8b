// computeAndRecordCoverage for the root-scoped agent (the whole corpus: 250,000
// documents under 10 roots) and a leaf agent, against a SELECT 1 round trip through the
// same Prisma client. Target: the root agent under 1 s.
import { db } from '../src/platform/db.js';
import { computeAndRecordCoverage } from '../src/services/coverage/coverage.js';
import { selectAgentCoverage } from '../src/services/coverage/sql/agent-coverage.js';
import type { BenchContext } from './bench-context.js';
import { captureSql, explainAnalyze } from './explain.js';
import {
  checkTarget,
  formatSummary,
  heading,
  indent,
  line,
  ratio,
  repsWithin,
  summarize,
  timeRuns,
  type TargetCheck,
} from './stats.js';

const MAX_RUNS = 7;
const TARGET_MS = 1_000;

export async function selectOneBaseline(runs = 50): Promise<number> {
  const samples = await timeRuns(runs, () => db().$queryRaw`SELECT 1`, 5);
  const summary = summarize(samples);
  line('baseline: SELECT 1 through Prisma', formatSummary(summary));
  return summary.p50;
}

export async function benchCoverage({
  corpus,
  alwaysExplain,
}: BenchContext): Promise<TargetCheck[]> {
  heading('coverage: computeAndRecordCoverage(agentId)');
  const baseline = await selectOneBaseline();
  const checks: TargetCheck[] = [];
  const agents = [
    { label: 'root agent (10 roots)', id: corpus.rootAgentId },
    { label: 'leaf agent (1 leaf)', id: corpus.leafAgentId },
  ];
  for (const agent of agents) {
    const warmup = performance.now();
    let report = await computeAndRecordCoverage(agent.id);
    // 7 runs, fewer when one is slow (about a minute per figure at most; at least 3).
    const runs = repsWithin(60_000, performance.now() - warmup, 1, 3, MAX_RUNS);
    const samples = await timeRuns(
      runs,
      async () => {
        report = await computeAndRecordCoverage(agent.id);
      },
      0,
    );
    const summary = summarize(samples);
    line(
      `${agent.label}: computeAndRecordCoverage`,
      `${formatSummary(summary)} (p50 ${ratio(summary.p50, baseline)})`,
    );
    line(
      `${agent.label}: result`,
      `overall=${report.overallCoverage}% documents=${report.totalDocuments} chunks=${report.totalChunks} nodes=${report.nodes.length} gaps=${report.gaps.length}`,
    );
    // The statement alone (no transaction, history row or agent update).
    const statement = summarize(await timeRuns(runs, () => selectAgentCoverage(db(), agent.id), 0));
    line(
      `${agent.label}: selectAgentCoverage only`,
      `${formatSummary(statement)} (p50 ${ratio(statement.p50, baseline)})`,
    );
    const check = checkTarget(`coverage ${agent.label} p50`, summary.p50, TARGET_MS);
    checks.push(check);
    if (!check.met || alwaysExplain) {
      console.log(`  EXPLAIN (ANALYZE, BUFFERS) of selectAgentCoverage (${agent.label}):`);
      console.log(
        indent(await explainAnalyze(captureSql((client) => selectAgentCoverage(client, agent.id)))),
      );
    }
  }
  return checks;
}
