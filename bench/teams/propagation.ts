// A removed member's key refused by every API process: N apps in this process, each with its
// own key cache and its own Redis connection (as N API processes have), the key cached in
// each; the team's OWNER removes the member through the first; each app is asked every
// POLL_MS until it refuses the key. Timed from when the removal answered (it has committed by
// then: the target's measure), and from when it was sent (which adds the removal's own time).
import { createRedisPubSub } from '../../src/platform/pubsub.js';
import { benchApp } from '../service.js';
import { formatSummary, line, summarize } from '../stats.js';
import { addMember, keyOf, memberName } from './fixture.js';
import { request } from './lists.js';

const APPS = Number(process.env.BENCH_TEAMS_APPS ?? 4);
const REPEATS = Number(process.env.BENCH_TEAMS_REMOVALS ?? 50);
const POLL_MS = 2;
const REMOVE = (teamId: string, user: string) =>
  `mutation { removeTeamMember(teamId: "${teamId}", user: "${user}") }`;

/** Until the app refuses the key (401), asking as fast as it answers; when it did. */
async function refusedAt(app: Awaited<ReturnType<typeof benchApp>>['app'], key: string) {
  for (;;) {
    const response = await app.fetch(
      new Request('http://bench.local/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ viewer { user } }' }),
      }),
    );
    await response.body?.cancel();
    if (response.status === 401) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function measureRemovals(redisUrl: string, adminKey: string, team: number) {
  const apps = await Promise.all(
    Array.from({ length: APPS }, () =>
      benchApp(adminKey, createRedisPubSub(redisUrl, `bench-teams-${process.pid}:`)),
    ),
  );
  try {
    // Each app's own subscription is live once one made after it is.
    for (const { app } of apps) {
      const probe = app.contextOptions.pubsub.subscribe('apiKeyRevoked', 'all');
      await probe.ready;
      await probe.return?.();
    }
    const owner = await keyOf(memberName(team, 1), team, 'ADMIN');
    const teamId = (await request(apps[0]!.app, owner, '{ viewer { team { id } } }')).viewer.team
      .id;
    const sinceSent: number[] = [];
    const sinceAnswered: number[] = [];
    const removal: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const user = `bench-removed-${i}`;
      const key = await addMember(user, team);
      for (const { app } of apps) await request(app, key, '{ viewer { user } }'); // cached in each
      const sent = performance.now();
      const refusals = apps.map(({ app }) => refusedAt(app, key));
      await request(apps[0]!.app, owner, REMOVE(teamId, user));
      const answered = performance.now();
      removal.push(answered - sent);
      // A process that refused before the removal answered counts as at once.
      for (const at of await Promise.all(refusals)) {
        sinceSent.push(at - sent);
        sinceAnswered.push(Math.max(0, at - answered));
      }
    }
    return {
      apps: APPS,
      repeats: REPEATS,
      removal: summarize(removal),
      sinceSent: summarize(sinceSent),
      sinceAnswered: summarize(sinceAnswered),
    };
  } finally {
    for (const { app, close } of apps) {
      await close();
      await app.contextOptions.pubsub.close();
    }
  }
}

export function printRemovals(result: Awaited<ReturnType<typeof measureRemovals>>) {
  line('removeTeamMember answered', formatSummary(result.removal));
  line(`refused by each of ${result.apps} apps, since sent`, formatSummary(result.sinceSent));
  line(
    `refused by each of ${result.apps} apps, since answered`,
    formatSummary(result.sinceAnswered),
  );
}
