// Presence within one API process (no Redis: the embedded default): being subscribed is being
// present, over graphql-sse, graphql-ws and multipart alike; one member per user however many
// streams; only those who may read the object see or join it; Query.presence says the same;
// on a public template, who looks from another team is seen only within that team.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { parseGlobalId } from '../../src/schema/ids.js';
import { errorCodes, graphql } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { waitFor } from '../utils/wait.js';
import {
  names,
  presenceWorld,
  PRESENCE_QUERY,
  watchMultipart,
  watchSse,
  watchWs,
  type PresenceEvent,
} from './fixture.js';

const h = useHarness();

const hasMembers =
  (...expected: string[]) =>
  (event: PresenceEvent) =>
    JSON.stringify(event.members.map((m) => m.user).sort()) === JSON.stringify(expected.sort());

/** Rewrites a template as `key`'s caller and expects no error. */
async function updateTemplate(
  app: { fetch: (request: Request) => Promise<Response> },
  key: string,
  id: string,
  input: string,
): Promise<void> {
  const result = await graphql(
    app.fetch,
    `mutation($id: ID!) { updateTemplate(id: $id, input: ${input}) { id } }`,
    { id },
    { key },
  );
  expect(result.errors).toBeUndefined();
}

describe('presence in one process', () => {
  it('announces joins and leaves to each transport, and counts a user with two streams once', async () => {
    const app = await h.startApp();
    const w = await presenceWorld(h, 'pres-one');
    const topic = w.objects.TOPIC;
    const alice = watchSse(h, app.baseUrl, w.alice, 'TOPIC', topic);
    const first = await alice.until('alice’s first event', () => true);
    // The first event: the members now, every one of them as joined.
    expect(names(first.members.map((m) => m.user))).toEqual(['pres-one-alice']);
    expect(names(first.joined)).toEqual(['pres-one-alice']);
    expect(first.left).toEqual([]);

    const bob = watchWs(h, app.baseUrl, w.bob, 'TOPIC', topic);
    const bobFirst = await bob.until('bob’s first event', () => true);
    expect(names(bobFirst.joined)).toEqual(['pres-one-alice', 'pres-one-bob']);
    const bobJoined = await alice.until(
      'bob’s join',
      (e) => e.joined.length === 1 && e.joined[0] === 'pres-one-bob',
    );
    expect(names(bobJoined.members.map((m) => m.user))).toEqual(['pres-one-alice', 'pres-one-bob']);

    // Bob's second stream (multipart) is the same member: no event for it.
    const bobAgain = watchMultipart(h, app.baseUrl, w.bob, 'TOPIC', topic);
    await bobAgain.until('bob’s second stream', hasMembers('pres-one-alice', 'pres-one-bob'));
    const listed = await graphql(
      app.fetch,
      PRESENCE_QUERY,
      { channel: 'TOPIC', id: topic },
      { key: w.alice },
    );
    expect(listed.data.presence.map((m: { user: string }) => m.user)).toEqual([
      'pres-one-alice',
      'pres-one-bob',
    ]);
    expect(listed.data.presence[1].since).toBe(bobFirst.members[1]!.since);

    // Closing one of bob's streams leaves him present; closing the last is his leave.
    bob.stop();
    bobAgain.stop();
    const left = await alice.until('bob’s leave', (e) => e.left.length > 0);
    expect(names(left.left)).toEqual(['pres-one-bob']);
    expect(names(left.members.map((m) => m.user))).toEqual(['pres-one-alice']);
    expect(alice.events.filter((e) => e.joined.length || e.left.length)).toHaveLength(3);
    alice.stop();
    const empty = async () =>
      (await graphql(app.fetch, PRESENCE_QUERY, { channel: 'TOPIC', id: topic }, { key: w.bob }))
        .data.presence.length === 0;
    await waitFor(empty, 'the topic to be empty once alice’s stream ended');
  });

  it('opens every kind of channel to those who may read its object, NOT_FOUND to others', async () => {
    const app = await h.startApp();
    const w = await presenceWorld(h, 'pres-kinds');
    for (const [channel, id] of Object.entries(w.objects)) {
      const bob = watchSse(h, app.baseUrl, w.bob, channel, id);
      await bob.until(`bob on the ${channel}`, hasMembers('pres-kinds-bob'));
      const outsider = watchSse(h, app.baseUrl, w.outsider, channel, id);
      await waitFor(
        async () => outsider.errors.length > 0,
        `the outsider refused on the ${channel}`,
      );
      expect(JSON.stringify(outsider.errors)).toContain('NOT_FOUND');
      const asked = await graphql(app.fetch, PRESENCE_QUERY, { channel, id }, { key: w.outsider });
      expect(errorCodes(asked)).toEqual(['NOT_FOUND']);
      // The outsider never appears to those who may see the channel.
      const seen = await graphql(app.fetch, PRESENCE_QUERY, { channel, id }, { key: w.bob });
      expect(seen.data.presence.map((m: { user: string }) => m.user)).toEqual(['pres-kinds-bob']);
      bob.stop();
    }
    // An id of another type is the caller's mistake; an unknown one of the right type is NOT_FOUND.
    const wrongType = await graphql(
      app.fetch,
      PRESENCE_QUERY,
      { channel: 'TOPIC', id: w.objects.AGENT },
      { key: w.bob },
    );
    expect(errorCodes(wrongType)).toEqual(['BAD_USER_INPUT']);
    expect(wrongType.errors![0]!.extensions!.argument).toBe('id');
    const unknown = await graphql(
      app.fetch,
      PRESENCE_QUERY,
      {
        channel: 'TOPIC',
        id: Buffer.from('Topic:00000000-0000-4000-8000-000000000000').toString('base64'),
      },
      { key: w.bob },
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });

  it("keeps a public template's viewers within their teams", async () => {
    const app = await h.startApp();
    const w = await presenceWorld(h, 'pres-public');
    const templateId = w.objects.TEMPLATE;
    await db().template.update({
      where: { id: parseGlobalId('Template', templateId)! },
      data: { isPublic: true },
    });
    const bob = watchSse(h, app.baseUrl, w.bob, 'TEMPLATE', templateId);
    await bob.until('bob alone', hasMembers('pres-public-bob'));
    // The outsider may read a public template, and so look at it: among its own team.
    const outsider = watchSse(h, app.baseUrl, w.outsider, 'TEMPLATE', templateId);
    await outsider.until('the outsider alone', hasMembers('pres-public-outsider'));
    const alice = watchSse(h, app.baseUrl, w.alice, 'TEMPLATE', templateId);
    await bob.until('alice joining bob', hasMembers('pres-public-alice', 'pres-public-bob'));
    const asked = async (key: string) =>
      (
        await graphql(app.fetch, PRESENCE_QUERY, { channel: 'TEMPLATE', id: templateId }, { key })
      ).data.presence.map((m: { user: string }) => m.user);
    expect(await asked(w.outsider)).toEqual(['pres-public-outsider']);
    expect((await asked(w.bob)).sort()).toEqual(['pres-public-alice', 'pres-public-bob']);
    // Neither side ever saw the other's names.
    expect(
      outsider.events.flatMap((e) => [...e.joined, ...e.members.map((m) => m.user)]),
    ).not.toContain('pres-public-bob');
    expect(bob.events.flatMap((e) => [...e.joined, ...e.members.map((m) => m.user)])).not.toContain(
      'pres-public-outsider',
    );
    for (const watcher of [alice, bob, outsider]) watcher.stop();
  });

  it("checks a stream again on its own object's changes, not on another object's of its type", async () => {
    const app = await h.startApp();
    const w = await presenceWorld(h, 'pres-own');
    const templateId = w.objects.TEMPLATE;
    const rowId = parseGlobalId('Template', templateId)!;
    await db().template.update({ where: { id: rowId }, data: { isPublic: true } });
    const outsider = watchWs(h, app.baseUrl, w.outsider, 'TEMPLATE', templateId);
    await outsider.until('the outsider alone', hasMembers('pres-own-outsider'));
    // Made private without a word (no change announced): nothing tells the stream yet.
    await db().template.update({ where: { id: rowId }, data: { isPublic: false } });
    const other = await graphql(
      app.fetch,
      'mutation { createTemplate(input: { name: "Other", category: DOCS, content: "y" }) { id } }',
      {},
      { key: w.alice },
    );
    expect(other.errors).toBeUndefined();
    await updateTemplate(app, w.alice, other.data.createTemplate.id, '{ content: "z" }');
    // Another template's rewrite is not this stream's: it was not checked again (it would
    // have completed well within this).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(outsider.completed).toBe(false);
    // Its own template's rewrite is: checked again, no longer readable, completed.
    await updateTemplate(app, w.alice, templateId, '{ content: "w" }');
    await waitFor(async () => outsider.completed, 'the outsider’s stream to complete');
    expect(outsider.errors).toEqual([]);
    outsider.stop();
  });

  it('completes a stream once its object is deleted, or no longer readable by its team', async () => {
    const app = await h.startApp();
    const w = await presenceWorld(h, 'pres-gone');
    const templateId = w.objects.TEMPLATE;
    await db().template.update({
      where: { id: parseGlobalId('Template', templateId)! },
      data: { isPublic: true },
    });
    const outsider = watchWs(h, app.baseUrl, w.outsider, 'TEMPLATE', templateId);
    await outsider.until('the outsider alone', hasMembers('pres-gone-outsider'));
    const bob = watchWs(h, app.baseUrl, w.bob, 'TEMPLATE', templateId);
    await bob.until('bob alone', hasMembers('pres-gone-bob'));
    await updateTemplate(app, w.alice, templateId, '{ isPublic: false }');
    // The outsider's team may no longer read it: its stream completes; bob's team still may.
    await waitFor(async () => outsider.completed, 'the outsider’s stream to complete');
    expect(outsider.errors).toEqual([]);
    expect(bob.completed).toBe(false);

    const agentId = w.objects.AGENT;
    const watching = watchWs(h, app.baseUrl, w.bob, 'AGENT', agentId);
    await watching.until('bob alone on the agent', hasMembers('pres-gone-bob'));
    const deleted = await graphql(
      app.fetch,
      'mutation($id: ID!) { deleteAgent(id: $id) }',
      { id: agentId },
      { key: w.alice },
    );
    expect(deleted.errors).toBeUndefined();
    await waitFor(async () => watching.completed, 'the stream on the deleted agent to complete');
    expect(watching.errors).toEqual([]);
    for (const watcher of [outsider, bob, watching]) watcher.stop();
  });
});
