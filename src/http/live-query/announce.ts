// What a committed change makes live queries run again, and how it reaches every API process:
// each process announcing changes (API or worker) publishes what they touched on one pub/sub
// channel, and every API process's store runs again the live queries that read any of it
// (follow below). The names are the response cache's (src/http/response-cache/changes.ts): an
// entity `Agent:<global id>`, a type `Agent`, a root field `Query.agents`, which are also what
// the live query store tracks. Without Redis the channel is in the process, as every signal.
import { listenToChanges, type DomainChange } from '../../platform/changes.js';
import { logger } from '../../platform/logger.js';
import { publicId } from '../../platform/public-ids.js';
import type { PubSub } from '../../platform/pubsub.js';
import { cacheTagsOf } from '../response-cache/changes.js';
import { entityTag } from '../response-cache/tags.js';

/** What a change makes live queries run again: what it drops from the response cache, and tasks' ends. */
export function liveIdentifiersOf(change: DomainChange): string[] {
  // Tasks are never cached, so the response cache passes over their ends; live queries do not.
  if (change.kind === 'task.ended') return [entityTag('Task', publicId('Task', change.taskId))];
  return cacheTagsOf(change);
}

/**
 * From now on every change this process announces is published for the API processes' live
 * queries; the changes of one turn of the event loop go in one message (a busy worker ends
 * many tasks at once). Returns how to stop. Registered once per process (main.ts).
 */
export function publishLiveInvalidations(pubsub: PubSub): () => void {
  let pending: Set<string> | undefined;
  let flush: NodeJS.Immediate | undefined;
  const unlisten = listenToChanges(async (changes) => {
    const identifiers = changes.flatMap(liveIdentifiersOf);
    if (identifiers.length === 0) return;
    if (!pending) {
      const batch = (pending = new Set());
      flush = setImmediate(() => {
        pending = undefined;
        void pubsub.publish('liveQueryInvalidated', 'all', { identifiers: [...batch] });
      });
    }
    for (const identifier of identifiers) pending.add(identifier);
  });
  return () => {
    unlisten();
    clearImmediate(flush);
  };
}

/** Calls `invalidate` with what every process publishes; returns when it follows, and how to stop. */
export function followLiveInvalidations(
  pubsub: PubSub,
  invalidate: (identifiers: string[]) => Promise<void>,
): { ready: Promise<void>; stop(): void } {
  const signals = pubsub.subscribe('liveQueryInvalidated', 'all');
  void (async () => {
    for await (const { identifiers } of signals)
      await invalidate(identifiers).catch((err: unknown) =>
        logger.error({ err }, 'live queries could not be run again'),
      );
  })();
  return { ready: signals.ready, stop: () => void signals.return?.() };
}
