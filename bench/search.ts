// agents(search:) and queryAgent through GraphQL in process, against `{ __typename }`
// through the same app and SELECT 1 through the same Prisma client. Targets: agents
// search p99 under 20 ms (with totalCount, as clients ask for it); queryAgent p99 under
// 50 ms for every query class (search-queries.ts).
import type { App } from '../src/http/app.js';
import { selectOneBaseline } from './coverage.js';
import { explainAnalyzeUnsafe } from './explain.js';
import { captureStatements, createBenchApp, gql, graphqlBaseline } from './graphql.js';
import type { BenchContext } from './bench-context.js';
import {
  checkTarget,
  formatSummary,
  heading,
  indent,
  line,
  ms,
  ratio,
  summarize,
  type TargetCheck,
} from './stats.js';
import { benchQueryAgent } from './search-queries.js';
import { AGENT_AREAS, AGENT_TEAMS } from './names.js';

const TARGET_P99_MS = 20;
const SEARCHES = 200;
const WITH_TOTAL =
  'query($s: String) { agents(search: $s, first: 20) { totalCount edges { node { id name } } } }';
const WITHOUT_TOTAL =
  'query($s: String) { agents(search: $s, first: 20) { edges { node { id name } } } }';

interface SearchString {
  kind: string;
  text: string;
}

/** 200 search strings of the shapes people type, from selective to matching everything (deterministic). */
export function searchStrings(): SearchString[] {
  const pick = <T>(list: readonly T[], i: number) => list[i % list.length]!;
  const shapes: Array<(i: number) => SearchString> = [
    (i) => ({
      kind: 'agent number (6 digits, ~1 match)',
      text: String(100_000 + ((i * 7_919) % 900_000)),
    }),
    (i) => ({ kind: 'number fragment (4 digits)', text: String(1_000 + ((i * 613) % 9_000)) }),
    (i) => ({ kind: 'area word (~5 % of agents)', text: pick(AGENT_AREAS, i) }),
    (i) => ({
      kind: 'area + team (~0.5 %)',
      text: `${pick(AGENT_AREAS, i)} ${pick(AGENT_TEAMS, i * 3)}`,
    }),
    (i) => ({ kind: 'prefix "Agent 12"', text: `Agent ${10 + (i % 90)}` }),
    (i) => ({ kind: 'no match', text: `zq${i}x` }),
    (i) => ({ kind: '2 letters (no trigram)', text: pick(['op', 'le', 'da', 'ri', 'an'], i) }),
    (i) => ({ kind: 'upper case word', text: pick(AGENT_TEAMS, i).toUpperCase() }),
  ];
  return Array.from({ length: SEARCHES }, (_, i) =>
    shapes[i % shapes.length]!(Math.floor(i / shapes.length)),
  );
}

async function timeSearches(app: App, query: string, strings: SearchString[]) {
  const samples: Array<{ search: SearchString; ms: number }> = [];
  for (const search of strings.slice(0, 10)) await gql(app, query, { s: search.text }); // warm-up
  for (const search of strings) {
    const started = performance.now();
    await gql(app, query, { s: search.text });
    samples.push({ search, ms: performance.now() - started });
  }
  return samples;
}

function report(
  label: string,
  samples: Array<{ search: SearchString; ms: number }>,
  baseline: number,
) {
  const all = summarize(samples.map((s) => s.ms));
  line(label, `${formatSummary(all)} (p50 ${ratio(all.p50, baseline)})`);
  const kinds = [...new Set(samples.map((s) => s.search.kind))];
  for (const kind of kinds) {
    const of = summarize(samples.filter((s) => s.search.kind === kind).map((s) => s.ms));
    line(`  ${kind}`, `p50=${ms(of.p50)} max=${ms(of.max)}`);
  }
  return all;
}

async function explainSearch(context: BenchContext, app: App, text: string): Promise<void> {
  const statements = await captureStatements(context.url, () => gql(app, WITH_TOTAL, { s: text }));
  for (const statement of statements.filter((s) => s.sql.includes('"agents"'))) {
    console.log(
      `  EXPLAIN (ANALYZE, BUFFERS) for search ${JSON.stringify(text)}: ${statement.sql.slice(0, 60)}… params ${JSON.stringify(statement.params)}`,
    );
    console.log(indent(await explainAnalyzeUnsafe(statement.sql, ...statement.params)));
  }
}

export async function benchSearch(context: BenchContext): Promise<TargetCheck[]> {
  heading('search: agents(search:) and queryAgent through GraphQL (app.fetch)');
  const { app, close: closeApp } = await createBenchApp();
  await selectOneBaseline(); // printed beside the figures
  const baseline = await graphqlBaseline(app);
  const strings = searchStrings();

  const withTotal = await timeSearches(app, WITH_TOTAL, strings);
  const total = report(`agents(search:, first: 20) with totalCount`, withTotal, baseline);
  const withoutTotal = await timeSearches(app, WITHOUT_TOTAL, strings);
  const page = report(`agents(search:, first: 20) without totalCount`, withoutTotal, baseline);
  const checks = [
    checkTarget('agents search p99 (with totalCount)', total.p99, TARGET_P99_MS),
    checkTarget('agents search p99 (without totalCount)', page.p99, TARGET_P99_MS),
  ];
  // The slowest samples' statements, one search string per kind (two with totalCount, one without).
  const toExplain = new Map<string, string>();
  const slowestKinds = (samples: typeof withTotal, count: number) =>
    [...samples]
      .sort((a, b) => b.ms - a.ms)
      .filter((sample, i, all) => all.findIndex((o) => o.search.kind === sample.search.kind) === i)
      .slice(0, count);
  if (!checks[0]!.met || context.alwaysExplain)
    for (const s of slowestKinds(withTotal, 2))
      toExplain.set(s.search.text, `${s.search.kind}, ${ms(s.ms)} with totalCount`);
  if (!checks[1]!.met || context.alwaysExplain)
    for (const s of slowestKinds(withoutTotal, 1))
      toExplain.set(s.search.text, `${s.search.kind}, ${ms(s.ms)} without totalCount`);
  for (const [text, why] of toExplain) {
    line(`slowest: ${JSON.stringify(text)}`, why);
    await explainSearch(context, app, text);
  }

  checks.push(...(await benchQueryAgent(context, app, baseline)));
  await closeApp();
  return checks;
}
