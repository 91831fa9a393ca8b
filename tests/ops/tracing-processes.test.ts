// OpenTelemetry across processes, as deployed: an API process and a ROLE=worker process, both
// with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a real local HTTP server standing in for the
// collector (the exporter's OTLP/HTTP JSON). One request enqueues a coverage refresh: its
// operation span, the SQL statements it sent and the worker's attempt span share one trace,
// which continues the traceparent the client sent. Without the endpoint nothing is traced:
// no SDK, and the task row carries no traceparent.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { createAgent } from '../utils/response-cache.js';
import { graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { waitFor } from '../utils/wait.js';

const h = useHarness();
const REFRESH = `mutation Refresh($input: RefreshCoverageInput!) {
  refreshCoverage(input: $input) { task { id } } }`;

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** The collector: every span POSTed to /v1/traces (OTLP/HTTP, JSON encoding). */
async function collector(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  contentTypes: Set<string>;
}> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      contentTypes.add(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const { resourceSpans = [] } = JSON.parse(body) as { resourceSpans?: any[] };
      for (const resource of resourceSpans) {
        const service = attributesOf(resource.resource.attributes)['service.name'] as string;
        for (const scope of resource.scopeSpans ?? [])
          for (const span of scope.spans ?? [])
            spans.push({ ...span, service, attributes: attributesOf(span.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes };
}

/** An agent over a taxonomy of its own (through the first in-process app). */
const newAgent = (name: string) => createAgent(h, h.adminKey, name);

/** OTLP JSON's key/value list as an object. */
function attributesOf(list: Array<{ key: string; value: Record<string, unknown> }> = []) {
  return Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));
}

describe('tracing', () => {
  it('follows a request from its operation through its SQL to the task attempt in the worker', async () => {
    await h.startApp();
    const agentId = await newAgent('Traced');
    const otel = await collector();
    const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: otel.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const api = spawnServiceProcess(
      h,
      { ...traced, ROLE: 'api', PORT: '0', ADMIN_API_KEY: h.adminKey },
      /"port":(\d+)[^\n]*API listening/,
    );
    const worker = spawnServiceProcess(
      h,
      { ...traced, ROLE: 'worker', WORKER_HTTP_PORT: '0', TASK_POLL_MS: '100' },
      /worker probes listening/,
    );
    const port = /"port":(\d+)/.exec(await api.ready)![1];
    await worker.ready;

    // The client's own trace: the API continues it.
    const clientTraceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const refreshed = await graphql<any>(
      (request) => fetch(request),
      REFRESH,
      { input: { agentId } },
      {
        key: h.adminKey,
        url: `http://127.0.0.1:${port}/graphql`,
        headers: { traceparent: `00-${clientTraceId}-${clientSpanId}-01` },
      },
    );
    expect(refreshed.errors).toBeUndefined();
    const task = await waitFor(async () => {
      const row = await db().task.findFirst({
        where: { type: 'coverage_refresh', agent: { name: 'Traced' } },
      });
      return row?.status === 'COMPLETED' && row;
    }, 'the refresh completed');
    // The row carries the enqueuing span's context, in the client's trace.
    const [, storedTraceId, storedSpanId] = task.traceParent!.split('-');
    expect(storedTraceId).toBe(clientTraceId);

    const inTrace = () => otel.spans.filter((span) => span.traceId === clientTraceId);
    const attempt = await waitFor(
      async () => inTrace().find((span) => span.name === 'task coverage_refresh'),
      'the attempt span',
    );
    const operation = inTrace().find((span) => span.name === 'mutation Refresh')!;
    expect(operation).toMatchObject({
      service: 'agent-growth-api',
      parentSpanId: clientSpanId,
      kind: 2, // SERVER
      attributes: { 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'Refresh' },
    });
    const insert = inTrace().find(
      (span) =>
        span.name === 'prisma:client:db_query' &&
        String(span.attributes['db.query.text']).includes('INSERT INTO tasks'),
    );
    expect(insert?.service).toBe('agent-growth-api');
    // The attempt is the child of the span that enqueued it, in the worker.
    expect(attempt).toMatchObject({
      service: 'agent-growth-worker',
      parentSpanId: storedSpanId,
      kind: 5, // CONSUMER
      attributes: { 'task.type': 'coverage_refresh', 'task.outcome': 'completed' },
    });
    const byId = new Map(inTrace().map((span) => [span.spanId, span]));
    const underAttempt = (span: ReceivedSpan): boolean =>
      span.parentSpanId === attempt.spanId ||
      (byId.has(span.parentSpanId!) && underAttempt(byId.get(span.parentSpanId!)!));
    await waitFor(
      async () =>
        inTrace().some(
          (span) =>
            span.service === 'agent-growth-worker' &&
            span.name === 'prisma:client:db_query' &&
            underAttempt(span),
        ),
      "the worker's statements under the attempt",
    );
    // No variable's value in any span: the agent's id went only as a variable.
    expect(JSON.stringify(inTrace())).not.toContain(agentId);
    expect([...otel.contentTypes]).toEqual(['POST /v1/traces application/json']);
    await Promise.all([api.kill('SIGTERM'), worker.kill('SIGTERM')]);
  }, 120_000); // two processes started through tsx, on a loaded machine

  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT: no SDK, no traceparent on the task', async () => {
    const app = await h.startApp();
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    const agentId = await newAgent('Untraced');
    const refreshed = await graphql<any>(
      app.fetch,
      REFRESH,
      { input: { agentId } },
      { key: h.adminKey },
    );
    expect(refreshed.errors).toBeUndefined();
    const task = await db().task.findFirstOrThrow({
      where: { type: 'coverage_refresh', agent: { name: 'Untraced' } },
    });
    expect(task.traceParent).toBeNull();
  });
});
