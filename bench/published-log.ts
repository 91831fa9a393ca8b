// For the fan-out benches (LOG_PUBLISHED): a worker process prints a line when each message
// of one topic is handed to pub/sub (after its commit), by publish or publishMany alike.
import type { PubSub, PubSubTopics, Topic } from '../src/platform/pubsub.js';

export function logPublished<T extends Topic>(
  pubsub: PubSub,
  topic: T,
  line: (key: string, payload: PubSubTopics[T]) => string,
): void {
  const publish = pubsub.publish.bind(pubsub);
  const publishMany = pubsub.publishMany.bind(pubsub);
  const log = (name: Topic, key: string, payload: unknown) => {
    if (name === topic) console.log(`${line(key, payload as PubSubTopics[T])} ${Date.now()}`);
  };
  pubsub.publish = ((name: Topic, key: string, payload: never) => {
    log(name, key, payload);
    return publish(name, key, payload);
  }) as PubSub['publish'];
  pubsub.publishMany = ((name: Topic, messages: ReadonlyArray<readonly [string, never]>) => {
    for (const [key, payload] of messages) log(name, key, payload);
    return publishMany(name, messages);
  }) as PubSub['publishMany'];
}
