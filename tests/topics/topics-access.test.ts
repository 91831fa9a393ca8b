// Following and listing topics: the topicGeneration feed lets go when its follower leaves,
// another team's topic is NOT_FOUND everywhere, and the caller's list pages in constant SQL.
import { describe, expect, it } from 'vitest';
import { createAppFeeds } from '../../src/http/feeds.js';
import { createInProcessPubSub } from '../../src/platform/pubsub.js';
import { errorCodes } from '../utils/graphql.js';
import { collect, listen, sseClient } from '../utils/sse.js';
import { waitFor } from '../utils/wait.js';
import { GENERATE, TOPIC, FEED, fromGlobal, unsignedPath, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, mintKey, plan, waitForTopic, download } = t;

describe('topicGeneration', () => {
  it('streams the current state of a planned topic, and lets go of the topic at once when its follower leaves', async () => {
    const planned = await plan(keys.alice!, { topic: 'Watched but never generated' });
    const client = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: keys.alice! });
    h.onCleanup(() => client.dispose());
    const events: any[] = [];
    const { unsubscribe } = listen<any>(client, FEED, { topicId: planned.topic.id }, (value) =>
      events.push(value.data!.topicGeneration),
    );
    await waitFor(async () => events.length > 0, 'the current state');
    expect(events).toMatchObject([
      { event: 'status_update', status: 'PLANNED', progressPercent: 0, artifact: null },
    ]);
    unsubscribe();
    // The feed itself: no change is coming for this topic, and return() still ends it at once
    // (one pub/sub subscription and one poll per followed topic are released).
    const pubsub = createInProcessPubSub(`${h.pubsubPrefix}feed:`);
    const feeds = createAppFeeds(pubsub);
    h.onCleanup(() => feeds.close());
    const hub = feeds.topics;
    const feed = hub.follow(fromGlobal(planned.topic.id));
    expect((await feed.next()).value).toMatchObject({ event: 'status_update', status: 'PLANNED' });
    const waiting = feed.next();
    expect(hub.size).toBe(1);
    await feed.return!();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(hub.size).toBe(0);
  });
});

describe("another team's topic", () => {
  it('is NOT_FOUND (or null) on every entry point', async () => {
    const planned = await plan(keys.alice!, { topic: 'Private matters' });
    const topicId = planned.topic.id;
    await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, keys.alice);
    await h.startWorker(t.app.pubsub);
    const done = await waitForTopic(topicId, keys.alice!, 'COMPLETED');
    const bob = keys.bob!;
    expect((await h.gql(TOPIC, { id: topicId }, bob)).data!.topic).toBeNull();
    expect(
      (await h.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: topicId }, bob)).data!.node,
    ).toBeNull();
    expect(
      (await h.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: done.artifact.id }, bob)).data!
        .node,
    ).toBeNull();
    expect(
      (await h.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: topicId }, keys.alice)).data!
        .node,
    ).toEqual({ id: topicId });
    expect(
      errorCodes(await h.gql(GENERATE, { input: { topicId, plan: planned.plan } }, bob)),
    ).toEqual(['NOT_FOUND']);
    const client = sseClient({ url: `${t.app.baseUrl}/graphql/stream`, key: bob });
    h.onCleanup(() => client.dispose());
    expect(
      (await collect(client, FEED, { topicId })).map((r) => r.errors?.[0]?.extensions?.code),
    ).toEqual(['NOT_FOUND']);
    for (const file of done.artifact.downloads)
      expect((await download(unsignedPath(file.url), bob)).status).toBe(404);
    const bobsTopics = (await h.gql(`{ topics { totalCount edges { node { id } } } }`, {}, bob))
      .data!.topics;
    expect(bobsTopics.edges.map((e: any) => e.node.id)).not.toContain(topicId);
    // The operator sees every team: alice's task and the topic behind it.
    const task = (
      await h.gql(
        `query($id: ID!) { task(id: $id) { id topic { id } } }`,
        { id: done.task.id },
        h.adminKey,
      )
    ).data!.task;
    expect(task).toEqual({ id: done.task.id, topic: { id: topicId } });
    expect(
      (
        await h.gql(
          `query($id: ID!) { task(id: $id) { topic { id } } }`,
          { id: done.task.id },
          keys.alice,
        )
      ).data!.task.topic,
    ).toEqual({ id: topicId });
  });
});

describe('topics', () => {
  it("lists the caller's own, newest first, with keyset cursors and a total", async () => {
    const key = await mintKey('lister');
    const ids: string[] = [];
    for (const topic of ['first', 'second', 'third'])
      ids.push((await plan(key, { topic })).topic.id);
    const query = `query($first: Int, $after: String) { topics(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id topic status } } } }`;
    const page1 = (await h.gql(query, { first: 2 }, key)).data!.topics;
    expect(page1.totalCount).toBe(3);
    expect(page1.edges.map((e: any) => e.node.topic)).toEqual(['third', 'second']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await h.gql(query, { first: 2, after: page1.pageInfo.endCursor }, key)).data!
      .topics;
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect(errorCodes(await h.gql(query, { after: 'bogus' }, key))).toEqual(['BAD_USER_INPUT']);
  });

  it('loads a page with its relations in a constant number of SQL statements', async () => {
    const key = await mintKey('counter');
    const query = `{ topics(first: 50) { totalCount edges { node {
      topic sections { title } template { name } agent { name } task { status } artifact { id downloads { format bytes } } } } } }`;
    const count = async () => {
      h.queryLog.length = 0;
      const response = await h.gql(query, {}, key);
      expect(response.errors).toBeUndefined();
      return h.queryLog.filter((sql) => !/^(BEGIN|COMMIT)/i.test(sql)).length;
    };
    await plan(key, { topic: 'probe' });
    const withFew = await count();
    for (let i = 0; i < 12; i++) await plan(key, { topic: `probe ${i}` });
    const withMany = await count();
    expect(withMany).toBe(withFew);
  });
});
