// Live query invalidations in a test file as production publishes them: each process once
// (main.ts), on its pub/sub. The apps of a file share this process: an app on in-process pub/sub
// is a channel space of its own and gets its own publisher; the apps on Redis share one, which
// moves to another of them when its app closes (so a change is published once, not per app).
import { publishLiveInvalidations } from '../../src/http/live-query/announce.js';
import type { PubSub } from '../../src/platform/pubsub.js';

export function livePublishing() {
  const onRedis: Array<{ pubsub: PubSub; stop?: () => void }> = [];
  return {
    /** Publishes for `pubsub`'s app; returns what to call before its pub/sub closes. */
    add(pubsub: PubSub): () => void {
      if (pubsub.kind !== 'redis') return publishLiveInvalidations(pubsub);
      const entry = {
        pubsub,
        stop: onRedis.length ? undefined : publishLiveInvalidations(pubsub),
      };
      onRedis.push(entry);
      return () => {
        onRedis.splice(onRedis.indexOf(entry), 1);
        if (!entry.stop) return;
        entry.stop();
        const next = onRedis[0];
        if (next) next.stop = publishLiveInvalidations(next.pubsub);
      };
    },
  };
}
