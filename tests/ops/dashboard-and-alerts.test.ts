// The checked-in operations files: the Grafana dashboard (ops/grafana/agent-growth.json) is
// importable JSON whose every query names metrics the code registers, and the Prometheus
// alert rules (ops/prometheus/alerts.yml) name only those too, pass `promtool check rules`
// and their unit tests (`promtool test rules alerts.test.yml`) when promtool is installed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApiMetrics } from '../../src/http/metrics.js';
import { createRateLimitMetrics } from '../../src/http/rate-limit/metrics.js';
import { createResponseCacheMetrics } from '../../src/http/response-cache/metrics.js';
import { createMetricsRegistry } from '../../src/platform/metrics.js';
import { createServiceMetrics } from '../../src/services/metrics.js';
import { createWorkerMetrics } from '../../src/workers/metrics.js';

const root = path.resolve(import.meta.dirname, '../..');
const prometheusDir = path.join(root, 'ops/prometheus');

/** Every series name a process can expose: the families main.ts registers with ROLE=all. */
function registeredSeries(): Set<string> {
  const registry = createMetricsRegistry();
  createApiMetrics(registry);
  createWorkerMetrics(registry);
  createServiceMetrics(registry);
  createResponseCacheMetrics(registry); // with RESPONSE_CACHE on
  createRateLimitMetrics(registry);
  const names = new Set<string>();
  for (const { name, type } of registry.getMetricsAsArray()) {
    names.add(name);
    if (['histogram', 'summary'].includes(String(type)))
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'group_left', 'group_right']);

/**
 * The metric names a PromQL expression reads: what is left once strings, matchers, ranges,
 * grouping clauses and functions go.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const next = bare.slice(match.index + match[0].length).trimStart();
    if (!next.startsWith('(') && !KEYWORDS.has(match[0])) names.add(match[0]);
  }
  return [...names];
}

function expectKnownMetrics(exprs: string[], where: string) {
  const known = registeredSeries();
  const used = new Set(exprs.flatMap(metricNamesIn));
  expect(used.size, `metrics read by ${where}`).toBeGreaterThan(5);
  const unknown = [...used].filter((name) => !known.has(name));
  expect(unknown, `metrics ${where} reads that no code registers`).toEqual([]);
  return used;
}

it('reads the metric names out of PromQL', () => {
  expect(
    metricNamesIn(
      'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!="ready"}[$__rate_interval])))',
    ),
  ).toEqual(['http_request_duration_seconds_bucket']);
  expect(
    metricNamesIn('sum(rate(a_total[5m])) / on (instance) group_left max(b) > 0 and absent(c)'),
  ).toEqual(['a_total', 'b', 'c']);
});

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource: { uid: string } }>;
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(
    readFileSync(path.join(root, 'ops/grafana/agent-growth.json'), 'utf8'),
  ) as { uid: string; title: string; panels: Panel[]; templating: { list: any[] } };

  it('is a dashboard Grafana imports: unique ids, panels on the grid, the Prometheus datasource chosen at import', () => {
    expect(dashboard).toMatchObject({ uid: 'agent-growth', title: 'Agent Growth API' });
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++)
        for (let column = x; column < x + w; column++) {
          expect(cells.has(`${row}:${column}`), `${panel.title} overlaps`).toBe(false);
          cells.add(`${row}:${column}`);
        }
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
  });

  it('queries only metrics the code registers', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets?.map((t) => t.expr) ?? []);
    const used = expectKnownMetrics(exprs, 'the dashboard');
    // What the issue asks a dashboard to show, each at least once.
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'http_response_size_bytes_bucket',
      'tasks_enqueued_total',
      'task_queue_wait_seconds_bucket',
      'tasks_pending',
      'webhook_deliveries_total',
      'webhook_delivery_duration_seconds_bucket',
      'llm_requests_total',
      'llm_tokens_total',
      'llm_cost_usd_total',
      'rate_limit_refusals_total',
      'response_cache_hits_total',
      'response_cache_misses_total',
      'db_pool_connections_in_use',
      'db_pool_waiting_requests',
      'graphql_subscriptions_open',
    ])
      expect(used, name).toContain(name);
  });
});

describe('the Prometheus alert rules', () => {
  const rules = parseYaml(readFileSync(path.join(prometheusDir, 'alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  const alerts = rules.groups.flatMap((group) => group.rules);

  it('cover the failure modes docs/operations.md names, reading only registered metrics', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'QueueBacklogOld',
        'NoLiveWorker',
        'WebhookFailureRateHigh',
        'HttpServerErrorRateHigh',
      ]),
    );
    expectKnownMetrics(
      alerts.map((rule) => rule.expr),
      'the alert rules',
    );
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  const hasPromtool = promtool.status === 0;
  if (!hasPromtool)
    console.warn(
      'promtool is not on PATH (Debian: apt-get install prometheus): the alert rules were NOT checked by promtool',
    );

  // CI installs it (.ci/run): there a missing promtool is a failure, not a skip.
  it.skipIf(!hasPromtool && process.env.CI !== 'true')(
    'pass promtool check rules and their unit tests',
    () => {
      expect(hasPromtool, 'promtool is not on PATH in CI').toBe(true);
      const run = (...args: string[]) =>
        spawnSync('promtool', args, { cwd: prometheusDir, encoding: 'utf8' });
      const checked = run('check', 'rules', 'alerts.yml');
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      expect(checked.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
      const tested = run('test', 'rules', 'alerts.test.yml');
      expect(tested.status, tested.stdout + tested.stderr).toBe(0);
      expect(tested.stdout).toContain('SUCCESS');
    },
  );
});
