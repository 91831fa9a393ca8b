// The live query store on its own (src/http/live-query/store.ts), on a schema of one counting
// field, with the clock in the test's hands: runs again are coalesced to one per 100 ms per
// query, equal live queries share each run, and only what a query read runs it again.
import {
  execute,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  parse,
  specifiedDirectives,
  type ExecutionArgs,
} from 'graphql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveQueryStore, streamLiveQuery } from '../../src/http/live-query/store.js';
import type { Context } from '../../src/schema/builder.js';
import { liveDirective } from '../../src/schema/live-directive.js';
import { operatorCaller } from '../../src/services/auth/caller.js';

let resolved = 0;
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      counter: { type: GraphQLInt, resolve: () => ++resolved },
      other: { type: GraphQLInt, resolve: () => 0 },
    },
  }),
  directives: [...specifiedDirectives, liveDirective],
});
const LIVE = parse('query @live { counter }');

function liveStore() {
  let executions = 0;
  const store = new LiveQueryStore({ executed: () => void executions++ });
  const run = store.makeExecute(execute as never);
  /** A live transport's live query: its results, read one by one. */
  const start = (document = LIVE) => {
    const contextValue = { caller: operatorCaller({ id: 'u', name: 'u' }, 't') } as Context;
    streamLiveQuery(contextValue);
    const args: ExecutionArgs = { schema, document, contextValue };
    return (run(args) as AsyncIterable<{ data: { counter: number } }>)[Symbol.asyncIterator]();
  };
  return { store, start, executions: () => executions };
}

beforeEach(() => {
  resolved = 0;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('the live query store', () => {
  it('runs a live query again at most once per 100 ms, with the latest result', async () => {
    const { store, start, executions } = liveStore();
    const results = start();
    expect((await results.next()).value).toEqual({ data: { counter: 1 } });
    vi.advanceTimersByTime(150);
    // The first change runs it at once (100 ms have passed), the next 19 wait for one run.
    for (let i = 0; i < 20; i++) await store.invalidate('Query.counter');
    expect((await results.next()).value).toEqual({ data: { counter: 2 } });
    expect(executions()).toBe(2);
    const next = results.next();
    vi.advanceTimersByTime(99);
    expect(executions()).toBe(2);
    vi.advanceTimersByTime(1);
    expect((await next).value).toEqual({ data: { counter: 3 } });
    expect(executions()).toBe(3);
    vi.advanceTimersByTime(1_000);
    expect(executions()).toBe(3);
    await results.return?.();
  });

  it('shares each run among equal live queries, and ignores what none of them read', async () => {
    const { store, start, executions } = liveStore();
    const followers = Array.from({ length: 50 }, () => start());
    for (const results of followers)
      expect((await results.next()).value).toEqual({ data: { counter: 1 } });
    expect(executions()).toBe(1);
    await store.invalidate(['Query.other', 'Agent:unread']);
    vi.advanceTimersByTime(1_000);
    expect(executions()).toBe(1);
    await store.invalidate('Query.counter');
    for (const results of followers)
      expect((await results.next()).value).toEqual({ data: { counter: 2 } });
    expect(executions()).toBe(2);
    // The last one to leave stops it: nothing runs any more.
    for (const results of followers) await results.return?.();
    await store.invalidate('Query.counter');
    vi.advanceTimersByTime(1_000);
    expect(executions()).toBe(2);
  });
});
