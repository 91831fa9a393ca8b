// Presence across API processes on one Redis, each a real `src/main.ts` (ROLE=api): members
// of different processes see each other's joins and leaves (graphql-sse on one, graphql-ws on
// the other), a SIGKILLed process's members expire and are announced as left by the survivor,
// an outsider is refused and never appears, and Query.presence says the same everywhere.
import { describe, expect, it } from 'vitest';
import { errorCodes, graphql } from '../utils/graphql.js';
import { redisAvailable, useHarness, type Harness } from '../utils/harness.js';
import { spawnServiceProcess } from '../utils/processes.js';
import { waitFor } from '../utils/wait.js';
import { names, presenceWorld, PRESENCE_QUERY, watchSse, watchWs } from './fixture.js';

const h = useHarness();

/** Small timings, so that a killed process's members expire within the test. */
const TIMINGS = { PRESENCE_REFRESH_MS: '200', PRESENCE_TTL_MS: '1000' };

async function apiProcess(harness: Harness) {
  const child = spawnServiceProcess(
    harness,
    {
      ROLE: 'api',
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_API_KEY: harness.adminKey,
      REDIS_URL: harness.redisUrl!,
      ...TIMINGS,
    },
    /"port":(\d+)[^\n]*API listening/,
  );
  const port = /"port":(\d+)/.exec(await child.ready)![1];
  return { child, url: `http://127.0.0.1:${port}` };
}

const listed = async (url: string, key: string, id: string) => {
  const response = await graphql(
    fetch,
    PRESENCE_QUERY,
    { channel: 'TOPIC', id },
    { key, url: `${url}/graphql` },
  );
  expect(response.errors).toBeUndefined();
  return (response.data.presence as Array<{ user: string }>).map((m) => m.user);
};

describe.skipIf(!redisAvailable)('presence across API processes', () => {
  it('shows members of both processes to each other, and a leave to the one who stays', async () => {
    await h.startApp();
    const w = await presenceWorld(h, 'pres-two');
    const [a, b] = await Promise.all([apiProcess(h), apiProcess(h)]);
    const topic = w.objects.TOPIC;
    const alice = watchSse(h, a.url, w.alice, 'TOPIC', topic);
    await alice.until('alice present', (e) => e.members.length === 1);
    const bob = watchWs(h, b.url, w.bob, 'TOPIC', topic);
    const bobFirst = await bob.until('bob sees alice', (e) => e.members.length === 2);
    expect(names(bobFirst.joined)).toEqual(['pres-two-alice', 'pres-two-bob']);
    const joined = await alice.until('alice sees bob join', (e) =>
      e.joined.includes('pres-two-bob'),
    );
    expect(names(joined.joined)).toEqual(['pres-two-bob']);
    expect(await listed(a.url, w.alice, topic)).toEqual(['pres-two-alice', 'pres-two-bob']);
    expect(await listed(b.url, w.bob, topic)).toEqual(['pres-two-alice', 'pres-two-bob']);

    // Alice on the other process too is still one member: nobody hears of it.
    const aliceAtB = watchWs(h, b.url, w.alice, 'TOPIC', topic);
    await aliceAtB.until('alice’s second stream', (e) => e.members.length === 2);
    aliceAtB.stop();

    // Another team's member is refused on either process, and never appears.
    const outsider = watchSse(h, b.url, w.outsider, 'TOPIC', topic);
    await waitFor(async () => outsider.errors.length > 0, 'the outsider refused');
    expect(JSON.stringify(outsider.errors)).toContain('NOT_FOUND');
    const asked = await graphql(
      fetch,
      PRESENCE_QUERY,
      { channel: 'TOPIC', id: topic },
      { key: w.outsider, url: `${a.url}/graphql` },
    );
    expect(errorCodes(asked)).toEqual(['NOT_FOUND']);

    bob.stop();
    const left = await alice.until('alice sees bob leave', (e) => e.left.length > 0);
    expect(names(left.left)).toEqual(['pres-two-bob']);
    expect(names(left.members.map((m) => m.user))).toEqual(['pres-two-alice']);
    expect(await listed(b.url, w.bob, topic)).toEqual(['pres-two-alice']);
    // Her first event, bob's join, bob's leave: nothing for her second stream or the outsider.
    expect(alice.events.map((e) => [names(e.joined), names(e.left)])).toEqual([
      [['pres-two-alice'], []],
      [['pres-two-bob'], []],
      [[], ['pres-two-bob']],
    ]);
    alice.stop();
    await Promise.all([a.child.kill('SIGTERM'), b.child.kill('SIGTERM')]);
  }, 120_000);

  it('announces the members of a SIGKILLed process as left once they expire', async () => {
    await h.startApp();
    const w = await presenceWorld(h, 'pres-kill');
    const [a, b] = await Promise.all([apiProcess(h), apiProcess(h)]);
    const topic = w.objects.TOPIC;
    const alice = watchWs(h, a.url, w.alice, 'TOPIC', topic);
    await alice.until('alice present', (e) => e.members.length === 1);
    const bob = watchSse(h, b.url, w.bob, 'TOPIC', topic);
    await alice.until('alice sees bob join', (e) => e.joined.includes('pres-kill-bob'));
    // No leave is written: bob's entry stops being refreshed and expires.
    await b.child.kill('SIGKILL');
    const left = await alice.until('bob expired', (e) => e.left.length > 0);
    expect(names(left.left)).toEqual(['pres-kill-bob']);
    expect(names(left.members.map((m) => m.user))).toEqual(['pres-kill-alice']);
    expect(await listed(a.url, w.alice, topic)).toEqual(['pres-kill-alice']);
    bob.stop();
    alice.stop();
    await a.child.kill('SIGTERM');
  }, 120_000);
});
