// Incremental delivery (@defer, @stream; docs/clients.md "@defer and @stream"): yoga's
// defer-stream plugin runs them, and an operation that uses them answers with an async iterable
// of payloads, the first result then `{ incremental, hasNext }` ones. What is ours: knowing a
// document asks for it, masking the errors inside the incremental payloads, and merging the
// payloads into one result for a client that takes JSON only.
import { mergeIncrementalResult, type ExecutionResult } from '@graphql-tools/utils';
import { visit, type DocumentNode } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { maskErrorForStream } from '../schema/errors.js';

/** Whether the document has a @defer or @stream anywhere (even one whose `if` may be false). */
export function usesIncrementalDelivery(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'defer' || node.name.value === 'stream') found = true;
    },
  });
  return found;
}

/** One incremental payload with its errors masked, at both levels where they may be. */
function masked(payload: ExecutionResult): ExecutionResult {
  if (!payload.incremental?.some((part) => part.errors?.length)) return payload;
  return {
    ...payload,
    incremental: payload.incremental.map((part) =>
      part.errors?.length
        ? { ...part, errors: part.errors.map((error) => maskErrorForStream(error)) }
        : part,
    ),
  };
}

/**
 * yoga's maskedErrors masks a payload's top-level errors only; the errors of a deferred
 * fragment or streamed item sit in `incremental[].errors`, and are masked here the same way
 * (the transports' own masking, maskErrorForStream): never an internal message to a client.
 */
export const maskIncrementalErrors = (): Plugin => ({
  onExecute: () => ({
    onExecuteDone: (payload) =>
      handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
        const next = masked(result as ExecutionResult);
        if (next !== result) setResult(next as never);
      }),
  }),
});

/**
 * The whole result of an incremental operation, for a client that takes JSON only: each
 * payload's data merged at its path (a streamed item at its index), errors concatenated in
 * order, `hasNext` gone. @graphql-tools/utils' merge is the one yoga's response cache uses.
 */
export async function mergeIncrementalResults(
  payloads: AsyncIterable<ExecutionResult>,
): Promise<ExecutionResult> {
  let merged: ExecutionResult | undefined;
  for await (const payload of payloads) {
    if (!merged) {
      const { hasNext: _hasNext, ...first } = payload;
      merged = { ...first, errors: first.errors ? [...first.errors] : undefined };
      if (!merged.errors) delete merged.errors;
    } else {
      mergeIncrementalResult({ incrementalResult: payload, executionResult: merged });
    }
  }
  return merged ?? {};
}
