import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { db } from '../src/db.js';
import { ErrorCode, mapPrismaError, maskError } from '../src/errors.js';
import { useHarness } from './utils/harness.js';

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

describe('GraphiQL', () => {
  it('is served from this process, with no CDN script or stylesheet', async () => {
    const app = await h.startApp();
    const response = await fetch(`${app.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('YogaGraphiQL');
    const external = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)=["'](https?:)?\/\/[^"']+/g)].map((m) => m[0]);
    expect(external).toEqual([]);
  });
});

describe('errors', () => {
  it('masks unexpected errors as INTERNAL_SERVER_ERROR without their message', () => {
    const masked = maskError(new GraphQLError('wrapped', { originalError: new Error('password=hunter2 at db.internal') }));
    expect(masked.message).toBe('Internal server error');
    expect((masked as GraphQLError).extensions.code).toBe(ErrorCode.INTERNAL_SERVER_ERROR);
    expect(JSON.stringify(masked)).not.toContain('hunter2');
  });

  it('maps a real unique violation from PostgreSQL to CONFLICT', async () => {
    await db().user.create({ data: { name: 'unique-user' } });
    const error = await db()
      .user.create({ data: { name: 'unique-user' } })
      .catch((e: unknown) => e);
    expect(mapPrismaError(error)?.extensions.code).toBe(ErrorCode.CONFLICT);
    expect((maskError(new GraphQLError('x', { originalError: error as Error })) as GraphQLError).extensions.code).toBe(
      ErrorCode.CONFLICT,
    );
  });

  it('answers a syntax error with a GraphQL error, not a stack trace', async () => {
    const response = await h.gql('{ viewer { user ');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).toMatch(/Syntax Error/);
    expect(JSON.stringify(response)).not.toMatch(/at .*\.ts:\d+/);
  });
});
