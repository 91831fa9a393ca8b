// GraphiQL's first view without a browser (graphiql-browser.test.ts has the one in Chromium):
// the tour it opens on validates against the schema and runs on the demo data, a request
// without a key (introspection included) is told how to get one, and the headers pane holds
// the placeholder wherever no key is pre-filled.
import {
  extendSchema,
  getIntrospectionQuery,
  Kind,
  parse,
  print,
  validate,
  visit,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { get as httpGet } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MISSING_KEY_MESSAGE } from '../../src/http/context.js';
import { GRAPHIQL_HEADERS_PLACEHOLDER } from '../../src/http/graphiql/options.js';
import { GRAPHIQL_TOUR, TOUR_DIRECTIVE_EXAMPLES } from '../../src/http/graphiql/tour.js';
import { loadDemoData } from '../../src/demo/load.js';
import { schema } from '../../src/schema/index.js';
import { graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { collect, sseClient } from '../utils/sse.js';

const h = useHarness();
const tour = parse(GRAPHIQL_TOUR);
const examples: readonly string[] = TOUR_DIRECTIVE_EXAMPLES;

/** The tour's operations whose name passes `keep`, alone in a document. */
const operations = (keep: (name: string) => boolean): DocumentNode => ({
  ...tour,
  definitions: tour.definitions.filter(
    (d) => d.kind === Kind.OPERATION_DEFINITION && keep(d.name?.value ?? ''),
  ),
});
const operation = (name: string) => print(operations((each) => each === name));

/**
 * The schema with @defer, @stream and @live defined where it does not define them itself, as
 * the incremental delivery proposal and graphql-live-query define them (this test's only).
 */
function withIncrementalDirectives(base: GraphQLSchema): GraphQLSchema {
  const definitions = {
    defer:
      'directive @defer(if: Boolean! = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT',
    stream:
      'directive @stream(if: Boolean! = true, label: String, initialCount: Int! = 0) on FIELD',
    live: 'directive @live(if: Boolean = true, throttle: Int) on QUERY',
  };
  const missing = Object.entries(definitions).filter(([name]) => !base.getDirective(name));
  return missing.length === 0
    ? base
    : extendSchema(base, parse(missing.map(([, sdl]) => sdl).join('\n')));
}

/** `directive@field` for each directive in the document (`@defer` on an inline fragment: its first field). */
function directiveUses(document: DocumentNode): string[] {
  const uses: string[] = [];
  visit(document, {
    OperationDefinition: (node) => {
      for (const d of node.directives ?? []) uses.push(`${d.name.value}@${node.operation}`);
    },
    Field: (node) => {
      for (const d of node.directives ?? []) uses.push(`${d.name.value}@${node.name.value}`);
    },
    InlineFragment: (node) => {
      const first = node.selectionSet.selections[0];
      for (const d of node.directives ?? [])
        uses.push(`${d.name.value}@${first?.kind === Kind.FIELD ? first.name.value : '?'}`);
    },
  });
  return uses;
}

describe("GraphiQL's tour", () => {
  it('validates against the schema; its directive examples once the directives are defined', () => {
    const plain = operations((name) => !examples.includes(name));
    expect(
      plain.definitions.map((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value),
    ).toEqual(['Agents', 'Ask', 'RefreshCoverage', 'FollowTask']);
    expect(validate(schema, plain)).toEqual([]);
    expect(directiveUses(plain)).toEqual([]);

    const directed = operations((name) => examples.includes(name));
    expect(directed.definitions).toHaveLength(examples.length);
    expect(directiveUses(directed)).toEqual(['defer@coverage', 'stream@hits', 'live@query']);
    expect(validate(withIncrementalDirectives(schema), tour)).toEqual([]);
  });

  it('runs on the demo data: agents with coverage, a question, a refresh followed live', async () => {
    await loadDemoData();
    const app = await h.startApp();
    const agents = await h.gql(operation('Agents'));
    expect(agents.errors).toBeUndefined();
    const nodes: Array<{ id: string; coverage: { overallCoverage: number } }> =
      agents.data.agents.edges.map((edge: { node: unknown }) => edge.node);
    expect(nodes).toHaveLength(5);
    for (const node of nodes) expect(node.coverage.overallCoverage).toEqual(expect.any(Number));

    // The tour's question finds something in the demo documents of some agent.
    const answers = await Promise.all(
      nodes.map((node) => h.gql(operation('Ask'), { agent: node.id })),
    );
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    expect(answers.some((answer) => answer.data.queryAgent.hits.length > 0)).toBe(true);

    const refreshed = await h.gql(operation('RefreshCoverage'), { agent: nodes[0]!.id });
    expect(refreshed.errors).toBeUndefined();
    const task: { id: string; status: string } = refreshed.data.refreshCoverage.task;
    expect(task.status).toBe('PENDING');
    await h.startWorker(app.pubsub);
    const events = await collect<{ taskProgress: { status: string } }>(
      sseClient({ url: `${app.baseUrl}/graphql/stream`, key: h.adminKey }),
      operation('FollowTask'),
      { task: task.id },
    );
    expect(events.map((event) => event.errors)).toEqual(events.map(() => undefined));
    expect(events.at(-1)?.data?.taskProgress.status).toBe('COMPLETED');
    await h.stopWorkers();
  });
});

describe('without a key', () => {
  const presented: Array<[string, Record<string, string>]> = [
    ['no key', {}],
    ["GraphiQL's placeholder", { authorization: 'Bearer <your key>' }],
    ['an unknown key', { 'x-api-key': 'agk_not_a_key' }],
  ];

  it.each(presented)(
    '%s: introspection and queries are told how to get a key',
    async (_, headers) => {
      const app = await h.startApp();
      // GraphiQL's first request: the introspection query under this name.
      expect(getIntrospectionQuery()).toMatch(/^\s*query IntrospectionQuery/);
      for (const document of [getIntrospectionQuery(), '{ __typename }', operation('Agents')]) {
        const response = await graphql(app.fetch, document, undefined, { key: null, headers });
        expect(response.status).toBe(401);
        expect(response.data ?? null).toBeNull();
        expect(response.errors).toEqual([
          { message: MISSING_KEY_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } },
        ]);
      }
      expect(MISSING_KEY_MESSAGE).toMatch(/npm start.*admin key.*createApiKey.*Teams/);
    },
  );
});

describe('GraphiQL page', () => {
  /** The options the page hands to GraphiQL (render-graphiql writes them as JSON). */
  async function pageOptions(fetch: (request: Request) => Promise<Response>, url: string) {
    const response = await fetch(new Request(url, { headers: { accept: 'text/html' } }));
    const html = await response.text();
    const json = /renderYogaGraphiQL\(\s*[^,]+,\s*(\{.*\}),\s*\);/s.exec(html)?.[1];
    expect(json, 'the options in the page').toBeDefined();
    return JSON.parse(json!) as Record<string, unknown>;
  }

  it('opens on the tour, with the placeholder where no key is pre-filled', async () => {
    const key = `Bearer ${h.adminKey}`;
    const app = await h.startApp({ graphiqlHeaders: { Authorization: key } });
    // Through a socket from this machine: the pre-filled key.
    const local = await pageOptions(fetch, `${app.baseUrl}/graphql`);
    expect(local).toMatchObject({ defaultQuery: GRAPHIQL_TOUR, title: 'Agent Growth API' });
    expect(JSON.parse(local.headers as string)).toEqual({ Authorization: key });
    // Without a socket (not known to be local; server.test.ts also tries another address).
    const direct = await pageOptions(app.fetch, 'http://localhost/graphql');
    expect(direct).toMatchObject({
      defaultQuery: GRAPHIQL_TOUR,
      headers: GRAPHIQL_HEADERS_PLACEHOLDER,
    });
    // No key configured at all.
    const bare = await h.startApp();
    expect(await pageOptions(fetch, `${bare.baseUrl}/graphql`)).toMatchObject({
      headers: GRAPHIQL_HEADERS_PLACEHOLDER,
      defaultEditorToolsVisibility: 'headers',
    });
    expect(GRAPHIQL_HEADERS_PLACEHOLDER).toBe('{"Authorization": "Bearer <your key>"}');
  });
});

describe('GraphiQL page delivery', () => {
  /** A GET of the page over a bare socket, as a browser sends it: what arrived, undecoded. */
  function getPage(url: string, headers: Record<string, string>) {
    return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        const request = httpGet(url, { headers: { accept: 'text/html', ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        });
        request.on('error', reject);
      },
    );
  }

  it('goes gzip-compressed to a browser that takes it, and a reload with its ETag is a 304', async () => {
    const app = await h.startApp();
    const url = `${app.baseUrl}/graphql`;
    const plain = await getPage(url, {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toContain('renderYogaGraphiQL');
    const zipped = await getPage(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toContain('accept-encoding');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    const etag = zipped.headers.etag as string;
    expect(etag).toBe(plain.headers.etag);
    expect(zipped.headers['cache-control']).toBe('private, no-cache');
    const again = await getPage(url, { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // gzip refused (q=0): the page as it is.
    const refused = await getPage(url, { 'accept-encoding': 'gzip;q=0, br' });
    expect(refused.headers['content-encoding']).toBeUndefined();
  });
});
