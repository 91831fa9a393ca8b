// Natural batching for the worker's writes: calls made while a batch is being written
// wait and go together in the next one, so a busy worker commits many outcomes in one
// statement and an idle one writes at once. By hand because DataLoader, the usual tool,
// starts a new batch every tick even while one is in flight, which keeps batches small.

/** Collects items until the next check phase, then writes them as one batch; `write` answers per item, in order. */
export function batchWrites<Item, Answer>(
  write: (items: Item[]) => Promise<Answer[]>,
): (item: Item) => Promise<Answer> {
  type Waiting = {
    item: Item;
    resolve: (answer: Answer) => void;
    reject: (error: unknown) => void;
  };
  let queue: Waiting[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    while (queue.length) {
      // Bounded by the worker's slots: one waiting item per running task.
      const batch = queue;
      queue = [];
      try {
        const answers = await write(batch.map((waiting) => waiting.item));
        batch.forEach((waiting, i) => waiting.resolve(answers[i]!));
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    writing = false;
  }

  return (item) =>
    new Promise<Answer>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!writing) {
        writing = true;
        setImmediate(() => void drain());
      }
    });
}
