import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { ErrorCode, mapPrismaError } from '../../src/platform/errors.js';
import { maskError } from '../../src/schema/errors.js';
import { insertTask } from '../../src/queue/insert-task.js';
import { useHarness } from '../utils/harness.js';
import { mint } from '../utils/teams.js';

const h = useHarness();

describe('probes', () => {
  it('/health answers without touching the stores', async () => {
    const app = await h.startApp();
    const response = await fetch(`${app.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/ready checks PostgreSQL and pub/sub, and turns 503 while draining', async () => {
    const app = await h.startApp();
    const ready = await fetch(`${app.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: true, pubsub: true });
    app.app.drain();
    const draining = await fetch(`${app.baseUrl}/ready`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ draining: true });
  });
});

/** One raw HTTP/1.1 request (a target fetch would normalise), answered as text. */
function rawRequest(baseUrl: string, requestLine: string): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.end(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('request targets', () => {
  // (Node's parser answers some of these itself, with 400 and no body.)
  it('serves an absolute-form target as its path, and answers one that is no URL with 400, no stack', async () => {
    const app = await h.startApp();
    const absolute = await rawRequest(app.baseUrl, `GET ${app.baseUrl}/health?x=1 HTTP/1.1`);
    expect(absolute).toMatch(/^HTTP\/1\.1 200/);
    expect(absolute).toContain('{"status":"ok"}');
    for (const target of ['*', 'http://[::1', 'no-slash', 'https://']) {
      const answer = await rawRequest(app.baseUrl, `GET ${target} HTTP/1.1`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 400/);
      expect(answer, target).not.toMatch(/TypeError|node_modules|at /);
    }
  });
});

describe('GraphiQL', () => {
  it('is where a browser opening / lands; other clients get the endpoints', async () => {
    const app = await h.startApp();
    const browser = await fetch(`${app.baseUrl}/`, {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(browser.url).toBe(`${app.baseUrl}/graphql`);
    expect(await browser.text()).toContain('YogaGraphiQL');
    const other = await fetch(`${app.baseUrl}/`, { redirect: 'manual' });
    expect(other.status).toBe(200);
    expect(await other.json()).toMatchObject({
      graphql: '/graphql',
      graphqlStream: '/graphql/stream',
    });
  });

  it('is served from this process, with no CDN script or stylesheet', async () => {
    const app = await h.startApp();
    const response = await fetch(`${app.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('YogaGraphiQL');
    const external = [
      ...html.matchAll(/<(?:script|link)[^>]+(?:src|href)=["'](https?:)?\/\/[^"']+/g),
    ].map((m) => m[0]);
    expect(external).toEqual([]);
  });

  it('pre-fills the admin key only for a browser on this machine', async () => {
    const secret = 'Bearer prefilled-admin-key-0123456789';
    const app = await h.startApp({ graphiqlHeaders: { Authorization: secret } });
    const page = (url: string) =>
      fetch(url, { headers: { accept: 'text/html' } }).then((response) => response.text());
    expect(await page(`${app.baseUrl}/graphql`)).toContain('prefilled-admin-key');
    // No socket at all (yoga.fetch): not known to be local.
    const direct = await app.fetch(
      new Request('http://localhost/graphql', { headers: { accept: 'text/html' } }),
    );
    expect(await direct.text()).not.toContain('prefilled-admin-key');
    // Over the network: the same app on this machine's non-loopback address.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((each) => each && each.family === 'IPv4' && !each.internal)?.address;
    expect(address, 'a non-loopback IPv4 address to test from').toBeDefined();
    const server = createServer(app.app.requestListener);
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    try {
      const html = await page(
        `http://${address}:${(server.address() as AddressInfo).port}/graphql`,
      );
      expect(html).toContain('YogaGraphiQL');
      expect(html).not.toContain('prefilled-admin-key');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('errors', () => {
  it('masks unexpected errors as INTERNAL_SERVER_ERROR without their message', () => {
    const masked = maskError(
      new GraphQLError('wrapped', { originalError: new Error('password=hunter2 at db.internal') }),
    );
    expect(masked.message).toBe('Internal server error');
    expect((masked as GraphQLError).extensions.code).toBe(ErrorCode.INTERNAL_SERVER_ERROR);
    expect(JSON.stringify(masked)).not.toContain('hunter2');
  });

  it('maps a real unique violation from PostgreSQL to CONFLICT', async () => {
    await db().user.create({ data: { name: 'unique-user' } });
    const error = await db()
      .user.create({ data: { name: 'unique-user' } })
      .catch((e: unknown) => e);
    expect(mapPrismaError(error)?.code).toBe(ErrorCode.CONFLICT);
    expect(
      (maskError(new GraphQLError('x', { originalError: error as Error })) as GraphQLError)
        .extensions.code,
    ).toBe(ErrorCode.CONFLICT);
  });

  it('answers a syntax error with a GraphQL error, not a stack trace', async () => {
    const response = await h.gql('{ viewer { user ');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).toMatch(/Syntax Error/);
    expect(JSON.stringify(response)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('request body limit', () => {
  const LIMIT = 2_000;
  const createTaxonomy = (version: string, padding: number) =>
    JSON.stringify({
      query: `# ${'x'.repeat(padding)}\nmutation($input: CreateTaxonomyInput!) { createTaxonomy(input: $input) { version } }`,
      variables: { input: { version, name: 'Padded', nodes: [{ key: 'root', label: 'Root' }] } },
    });
  const taxonomies = (version: string) => db().taxonomy.count({ where: { version } });

  /** POSTs `body` over a socket: with Content-Length, or chunked (no Content-Length) in 500-byte pieces. */
  function post(
    baseUrl: string,
    body: string,
    framing: 'content-length' | 'chunked',
    path = '/graphql',
  ) {
    return new Promise<{
      status: number;
      json: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    }>((resolve, reject) => {
      const url = new URL(path, baseUrl);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        authorization: `Bearer ${h.adminKey}`,
      };
      if (path !== '/graphql') headers.accept = 'text/event-stream';
      if (framing === 'content-length') headers['content-length'] = String(Buffer.byteLength(body));
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              json:
                res.statusCode === 200 && path !== '/graphql' ? { data: text } : JSON.parse(text),
            }),
          );
        },
      );
      req.on('error', reject);
      for (let at = 0; at < body.length; at += 500) req.write(body.slice(at, at + 500));
      req.end();
    });
  }

  for (const framing of ['content-length', 'chunked'] as const) {
    it(`refuses a body over the limit with 413 and runs nothing (${framing})`, async () => {
      const app = await h.startApp({ maxRequestBodyBytes: LIMIT });
      const version = `too-large-${framing}`;
      const response = await post(app.baseUrl, createTaxonomy(version, LIMIT), framing);
      expect(response.status).toBe(413);
      expect(response.json.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
        ['Request body too large', 'BAD_USER_INPUT'],
      ]);
      expect(await taxonomies(version)).toBe(0);
    });

    it(`accepts a body under the limit (${framing})`, async () => {
      const app = await h.startApp({ maxRequestBodyBytes: LIMIT });
      const version = `fits-${framing}`;
      const body = createTaxonomy(version, LIMIT - 400);
      expect(body.length).toBeGreaterThan(LIMIT - 300); // several chunks, close to the limit
      const response = await post(app.baseUrl, body, framing);
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ data: { createTaxonomy: { version } } });
      expect(await taxonomies(version)).toBe(1);
    });
  }

  for (const framing of ['content-length', 'chunked'] as const) {
    it(`holds graphql-sse requests to the same limit (${framing})`, async () => {
      const app = await h.startApp({ maxRequestBodyBytes: LIMIT });
      const refused = await post(
        app.baseUrl,
        createTaxonomy(`sse-too-large-${framing}`, LIMIT),
        framing,
        '/graphql/stream',
      );
      expect(refused.status).toBe(413);
      expect(refused.json.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
        ['Request body too large', 'BAD_USER_INPUT'],
      ]);
      expect(await taxonomies(`sse-too-large-${framing}`)).toBe(0);
      const fits = await post(
        app.baseUrl,
        createTaxonomy(`sse-fits-${framing}`, LIMIT - 400),
        framing,
        '/graphql/stream',
      );
      expect(fits.status).toBe(200);
      expect(fits.json.data).toContain(`"version":"sse-fits-${framing}"`);
      expect(await taxonomies(`sse-fits-${framing}`)).toBe(1);
    });
  }

  it('refuses a Content-Length that is not one non-negative integer with 400', async () => {
    const app = await h.startApp({ maxRequestBodyBytes: LIMIT });
    const body = createTaxonomy('bad-length', 10);
    // Through fetch (no socket): node:http's own parser would refuse this header before the app.
    const response = await app.fetch(
      new Request(`${app.baseUrl}/graphql`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'content-length': '10, 10',
          authorization: `Bearer ${h.adminKey}`,
        },
      }),
    );
    expect(response.status).toBe(400);
    const json = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(json.errors.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(await taxonomies('bad-length')).toBe(0);
  });
});

describe('/metrics', () => {
  /** The value of one sample line (`name{labels} value`), or undefined if absent. */
  function sample(text: string, series: string): number | undefined {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  it('counts operations and errors by code, open event streams, and the queue from PostgreSQL', async () => {
    const app = await h.startApp();
    const postBody = (body: object, baseUrl = app.baseUrl, key = h.adminKey) =>
      fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      }).then((response) => response.json());
    const post = (query: string) => postBody({ query });
    await post('{ viewer { user } }');
    await post('{ viewer { user } }');
    await post('mutation { cancelTask(id: "VGFzazpub3BlCg==") { id } }');
    await post('{ noSuchField }');
    await post(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { user }`).join(' ')} }`); // over the alias limit
    await post('{ viewer {');
    // Refused by yoga's plugins before envelop parses or validates: counted as they are answered.
    const twoOperations = await post('query A { viewer { user } } query B { viewer { user } }');
    expect(twoOperations.errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
    const unknownId = await postBody({
      extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } },
    });
    expect(unknownId.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    await fetch(`${app.baseUrl}/graphql/stream`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.adminKey}` },
    });
    await insertTask(db(), {
      type: 'metrics_probe',
      priority: 'LOW',
      payload: {},
      maxAttempts: 1,
      timeoutSeconds: 1,
      ownerId: null,
    });

    const response = await fetch(`${app.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(sample(text, 'graphql_operations_total{type="query",outcome="ok"}')).toBe(2);
    expect(sample(text, 'graphql_operations_total{type="mutation",outcome="error"}')).toBe(1);
    expect(sample(text, 'graphql_errors_total{code="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);
    expect(sample(text, 'graphql_errors_total{code="BAD_USER_INPUT"}')).toBe(1);
    expect(sample(text, 'graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}')).toBe(1);
    expect(sample(text, 'graphql_errors_total{code="OPERATION_RESOLUTION_FAILURE"}')).toBe(1);
    expect(sample(text, 'graphql_errors_total{code="PERSISTED_QUERY_NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'graphql_execution_duration_seconds_count{type="query"}')).toBe(2);
    expect(sample(text, 'graphql_sse_streams_open')).toBe(1);
    const stats = await db().task.groupBy({ by: ['status'], _count: true });
    const pending = stats.find((s) => s.status === 'PENDING')?._count ?? 0;
    expect(pending).toBeGreaterThan(0);
    expect(sample(text, 'tasks{status="pending"}')).toBe(pending);
    expect(sample(text, 'task_workers_alive')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Bounded labels: no operation text or ids in the output.
    expect(text).not.toContain('noSuchField');
    expect(text).not.toContain('VGFzazpub3BlCg');

    // TRUSTED_DOCUMENTS_ONLY: a document that is not registered, from a key that is not the operator's.
    const only = await h.startApp({ trustedDocumentsOnly: true });
    const { key } = await mint(h, 'metrics-trusted-user', ['READ']);
    const refused = await postBody({ query: '{ viewer { user } }' }, only.baseUrl, key);
    expect(refused.errors[0].extensions.code).toBe('TRUSTED_DOCUMENT_REQUIRED');
    // And on graphql-sse's own endpoint (distinct connections), which refuses it outside yoga.
    const streamed = await fetch(`${only.baseUrl}/graphql/stream`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query: '{ viewer { user } }' }),
    });
    expect(await streamed.text()).toContain('TRUSTED_DOCUMENT_REQUIRED');
    const onlyText = await (await fetch(`${only.baseUrl}/metrics`)).text();
    expect(sample(onlyText, 'graphql_errors_total{code="TRUSTED_DOCUMENT_REQUIRED"}')).toBe(2);
  });
});

describe('operation limits', () => {
  const codesAndMessages = (response: {
    errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;
  }) => response.errors?.map((e) => [e.extensions?.code, e.message]);

  it('refuses too many aliases, too deep a selection and too many tokens before running anything', async () => {
    const aliases = await h.gql(
      `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { user }`).join(' ')} }`,
    );
    expect(aliases.status).toBe(400);
    expect(codesAndMessages(aliases)).toEqual([
      ['BAD_USER_INPUT', expect.stringContaining('Aliases limit of 15 exceeded')],
    ]);

    const nested = (depth: number): string =>
      depth === 0 ? 'id' : `id parent { ${nested(depth - 1)} }`;
    // taxonomy, nodes, then parent after parent: nested(9) is 12 levels deep, nested(10) is 13.
    const deepest = await h.gql(`{ taxonomy(version: "any") { nodes { ${nested(9)} } } }`);
    expect(deepest.errors).toBeUndefined();
    const deep = await h.gql(`{ taxonomy(version: "any") { nodes { ${nested(10)} } } }`);
    expect(deep.status).toBe(400);
    expect(codesAndMessages(deep)).toEqual([
      ['BAD_USER_INPUT', 'Query depth limit of 12 exceeded, found 13.'],
    ]);

    const tokens = await h.gql(`{ viewer { user ${'__typename '.repeat(5_000)} } }`);
    expect(tokens.status).toBe(400);
    expect(codesAndMessages(tokens)).toEqual([
      ['BAD_USER_INPUT', expect.stringContaining('Token limit of 5000 exceeded')],
    ]);
  });

  it('refuses too many directives and too high a cost, naming the limit', async () => {
    const directives = await h.gql(`{ viewer { ${'user @include(if: true) '.repeat(51)} } }`);
    expect(directives.status).toBe(400);
    expect(codesAndMessages(directives)).toEqual([
      ['BAD_USER_INPUT', expect.stringContaining('Directives limit of 50 exceeded')],
    ]);

    // Within the depth, alias and token limits, but wide at every level: armor's cost grows 1.5× a level.
    // (Much wider, and graphql-js itself aborts validation: below.)
    const typenames = '__typename '.repeat(200);
    const wide = (depth: number): string =>
      depth === 0 ? typenames : `${typenames} parent { ${wide(depth - 1)} }`;
    const costly = await h.gql(`{ taxonomy(version: "any") { nodes { ${wide(9)} } } }`);
    expect(costly.status).toBe(400);
    expect(codesAndMessages(costly)).toEqual([
      ['BAD_USER_INPUT', expect.stringContaining('Query Cost limit of 50000 exceeded')],
    ]);
  });

  it("refuses a field repeated past graphql-js's validation budget, saying so", async () => {
    // Within every limit of ours; graphql-js gives up comparing the fields pairwise.
    const repeated = await h.gql(`{ viewer { ${'user '.repeat(800)} } }`);
    expect(repeated.status).toBe(400);
    expect(codesAndMessages(repeated)).toEqual([
      ['BAD_USER_INPUT', expect.stringContaining('repeats fields too often to be validated')],
    ]);
  });

  it('lets the full introspection query through (GraphiQL, code generators)', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const response = await h.gql<{ __schema: { types: unknown[] } }>(
      getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.__schema.types.length).toBeGreaterThan(50);
  });
});
