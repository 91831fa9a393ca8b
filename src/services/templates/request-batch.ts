// Per-request batching for fields of a list of templates (ratings, versions): every template
// of a response that asks for the same thing is served by one statement. A few lines by hand
// because `dataloader` is not a dependency of this package.

interface Batch<R> {
  keys: Set<string>;
  results: Promise<Map<string, R>>;
}

// Per request (the GraphQL context) and per question asked; a batch closes when it is sent.
const pending = new WeakMap<object, Map<string, Batch<unknown>>>();

/**
 * The result for `key`, loaded together with the keys asked for the same `question` in the
 * same tick of the same `scope` (the request's context object). `load` gets every key once
 * and answers them all; the same question must always be answered by the same `load`.
 */
export async function loadInBatch<R>(
  scope: object,
  question: string,
  key: string,
  load: (keys: string[]) => Promise<Map<string, R>>,
): Promise<R | undefined> {
  let batches = pending.get(scope);
  if (!batches) pending.set(scope, (batches = new Map()));
  let batch = batches.get(question) as Batch<R> | undefined;
  if (!batch) {
    const keys = new Set<string>();
    const questions = batches;
    const results = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      questions.delete(question);
      return load([...keys]);
    });
    batch = { keys, results };
    batches.set(question, batch as Batch<unknown>);
  }
  batch.keys.add(key);
  return (await batch.results).get(key);
}

/** Rows grouped by a key, in the order they came. */
export function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(keyOf(row));
    if (group) group.push(row);
    else groups.set(keyOf(row), [row]);
  }
  return groups;
}
