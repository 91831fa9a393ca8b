// Fan-out: subscribers of one task get the same event objects from the TaskEventHub, and
// executing the same selection on the same event for the same caller gives the same
// result. graphql-js (and yoga's executor) execute the selection once per subscriber per
// event; this executes it once per (event, document, operation, variables, caller)
// and hands every such subscriber the same result. Each subscriber keeps its own source
// stream, so its own replay, first event and completion are untouched.
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Context } from './context.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Per event object, per document: results by operation, variables and caller. */
const resultsByEvent = new WeakMap<object, WeakMap<DocumentNode, Map<string, Result>>>();

/**
 * graphql-js builds `data` from null-prototype objects, which V8 keeps in dictionary mode
 * and JSON.stringify walks slowly; a result sent to thousands of subscribers is turned into
 * plain objects once. Results with errors stay as they are (the error masking needs them).
 */
function plain(result: ExecutionResult): ExecutionResult {
  return result.errors ? result : (JSON.parse(JSON.stringify(result)) as ExecutionResult);
}

function sharedResult(args: ExecutionArgs, payload: unknown, key: string): Result {
  if (typeof payload !== 'object' || payload === null) return execute({ ...args, rootValue: payload });
  let byDocument = resultsByEvent.get(payload);
  if (!byDocument) resultsByEvent.set(payload, (byDocument = new WeakMap()));
  let byKey = byDocument.get(args.document);
  if (!byKey) byDocument.set(args.document, (byKey = new Map()));
  let result = byKey.get(key);
  if (!result) {
    const executed = execute({ ...args, rootValue: payload });
    result = executed instanceof Promise ? executed.then(plain) : plain(executed);
    byKey.set(key, result);
  }
  return result;
}

/**
 * The source stream mapped to results. Not an async generator: a leaving client's
 * return() must reach the source at once, not after the source's next event.
 */
function mapEvents(source: AsyncIterator<unknown>, toResult: (payload: unknown) => Result): AsyncIterableIterator<ExecutionResult> {
  // then-chains rather than async functions: this runs per subscriber per event.
  const stepOf = (result: ExecutionResult): IteratorResult<ExecutionResult> => ({ value: result, done: false });
  return {
    next() {
      return source.next().then((step): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
        if (step.done) return { value: undefined, done: true };
        const result = toResult(step.value);
        return result instanceof Promise ? result.then(stepOf) : stepOf(result);
      });
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** graphql-js's subscribe, except that identical subscriptions share each event's result. */
export async function subscribeSharingResults(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const { caller } = args.contextValue as Context;
  // What besides the document decides the result; computed once per subscription.
  const key = `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${caller.userId}\n${[...caller.scopes].sort().join(',')}`;
  return mapEvents(source[Symbol.asyncIterator](), (payload) => sharedResult(args, payload, key));
}
