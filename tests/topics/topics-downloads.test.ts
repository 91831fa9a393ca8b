// Signed download links (ArtifactFile.url): opened with a plain fetch and no header, they give
// the file with its type and a Content-Disposition name read back by a real parser; anything
// changed, a link past its expiry, a revoked key or a removed member gets 403 and an empty body.
import { parse as parseContentDisposition } from 'content-disposition';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { downloadFilename } from '../../src/services/topics/download-names.js';
import { signDownload } from '../../src/services/topics/download-links.js';
import { graphql } from '../utils/graphql.js';
import type { TestApp } from '../utils/harness.js';
import { mint, teamWithMember } from '../utils/teams.js';
import { GENERATE, fromGlobal, unsignedPath, useTopics } from './fixture.js';

const t = useTopics();
const { h, keys, plan, waitForTopic } = t;

const DOWNLOADS = `query($id: ID!) { topic(id: $id) {
  artifacts(first: 10) { edges { node { id downloads { format url expiresAt bytes contentType filename } } } } } }`;

/** A topic of `key`'s team generated `times` times; its artifacts, newest first, as a client sees them. */
async function generated(key: string, title: string, times = 1, app: TestApp = t.app) {
  const planned = await plan(key, { topic: title });
  await h.startWorker(t.app.pubsub);
  for (let run = 0; run < times; run++) {
    const response = await h.gql(
      GENERATE,
      { input: { topicId: planned.topic.id, plan: planned.plan } },
      key,
    );
    expect(response.errors).toBeUndefined();
    await waitForTopic(planned.topic.id, key, 'COMPLETED');
  }
  return artifactsOf(planned.topic.id, key, app);
}

async function artifactsOf(topicId: string, key: string, app: TestApp = t.app) {
  const response = await graphql(app.fetch, DOWNLOADS, { id: topicId }, { key });
  expect(response.errors).toBeUndefined();
  return (response.data as any).topic.artifacts.edges.map((edge: any) => edge.node);
}

/** A plain GET (or HEAD) of a link, as a browser opens it: no header of ours. */
const open = (url: string, method = 'GET', app: TestApp = t.app) =>
  fetch(new URL(url, app.baseUrl), { method });

/** The link with one part changed: a query parameter, or the path. */
function changed(url: string, change: (link: URL) => void): string {
  const link = new URL(url, 'http://api.invalid');
  change(link);
  return `${link.pathname}${link.search}`;
}

async function expectRefused(url: string, app: TestApp = t.app) {
  const response = await open(url, 'GET', app);
  expect(response.status).toBe(403);
  expect(await response.text()).toBe('');
  expect(response.headers.get('cache-control')).toBe('private, no-store');
}

describe('a signed download link', () => {
  it('opens without any header: the bytes, the type and the Korean name', async () => {
    const [artifact] = await generated(keys.alice!, '생성형 AI 도입 전략');
    expect(artifact.downloads.map((file: any) => file.format)).toEqual([
      'markdown',
      'hwpx',
      'docx',
    ]);
    for (const file of artifact.downloads) {
      expect(file.url).toMatch(/^\/artifacts\/[^/?]+\/[a-z]+\?/);
      expect(Date.parse(file.expiresAt)).toBeGreaterThan(Date.now() + 3_000_000);
      const response = await open(file.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(file.contentType);
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      const stored = await db().artifactFile.findFirstOrThrow({
        where: { artifactId: fromGlobal(artifact.id), format: file.format },
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.byteLength).toBe(file.bytes);
      expect(bytes.equals(Buffer.from(stored.data))).toBe(true);
      const extension = { markdown: 'md', hwpx: 'hwpx', docx: 'docx' }[file.format as string];
      const disposition = parseContentDisposition(response.headers.get('content-disposition')!);
      expect(disposition.type).toBe('attachment');
      expect(disposition.parameters.filename).toBe(`생성형 AI 도입 전략.${extension}`);
      expect(file.filename).toBe(disposition.parameters.filename);
      // Clients that read only `filename` (no RFC 8187) get an ASCII name.
      expect(response.headers.get('content-disposition')).toMatch(
        new RegExp(`^attachment; filename="?report\\.${extension}"?; filename\\*=UTF-8''`),
      );
      const head = await open(file.url, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(file.bytes));
      expect(await head.text()).toBe('');
    }
  });

  it('is 403 with an empty body when its signature, format, artifact, key or expiry is changed', async () => {
    const [newer, older] = await generated(keys.alice!, 'Tampered links', 2);
    const hwpx = newer.downloads.find((file: any) => file.format === 'hwpx');
    expect((await open(hwpx.url)).status).toBe(200);
    const flip = (text: string) => (text.startsWith('A') ? 'B' : 'A') + text.slice(1);
    await expectRefused(
      changed(hwpx.url, (l) =>
        l.searchParams.set('signature', flip(l.searchParams.get('signature')!)),
      ),
    );
    await expectRefused(
      changed(hwpx.url, (l) => (l.pathname = l.pathname.replace(/hwpx$/, 'docx'))),
    );
    // Another artifact alice may read, with this link's query: not what was signed.
    await expectRefused(
      changed(
        hwpx.url,
        (l) =>
          (l.pathname = l.pathname.replace(
            encodeURIComponent(newer.id),
            encodeURIComponent(older.id),
          )),
      ),
    );
    await expectRefused(
      changed(hwpx.url, (l) =>
        l.searchParams.set('expires', String(Number(l.searchParams.get('expires')) + 3_600)),
      ),
    );
    const bobKeyId = (await mint(h, 'bob', ['READ'])).id;
    await expectRefused(changed(hwpx.url, (l) => l.searchParams.set('keyId', bobKeyId)));
    await expectRefused(changed(hwpx.url, (l) => l.searchParams.delete('signature')));
    // The signature as signed, not another spelling that decodes to the same bytes.
    for (const extra of ['!', '.', '=', '=='])
      await expectRefused(
        changed(hwpx.url, (l) =>
          l.searchParams.set('signature', l.searchParams.get('signature')! + extra),
        ),
      );
    await expectRefused(changed(hwpx.url, (l) => l.searchParams.set('expires', 'soon')));
    // The API-key way is as before: a member's key opens the path, another team's gets 404.
    const withKey = (key: string | null) =>
      fetch(new URL(unsignedPath(hwpx.url), t.app.baseUrl), {
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
    expect((await withKey(keys.alice!)).status).toBe(200);
    const notFound = await withKey(keys.bob!);
    expect(notFound.status).toBe(404);
    // Kept by no cache: the same path answers the next key that asks with the file.
    expect(notFound.headers.get('cache-control')).toBe('private, no-store');
    expect((await withKey(null)).status).toBe(404);
    const post = await fetch(new URL(hwpx.url, t.app.baseUrl), { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect(post.headers.get('cache-control')).toBe('private, no-store');
  });

  it('is 403 past its expiry (DOWNLOAD_LINK_TTL_SECONDS)', async () => {
    const secret = 'a download link secret of this test, 32+ characters';
    const app = await h.startApp({ downloadLinks: { secret, ttlSeconds: 1 } });
    const [artifact] = await generated(keys.alice!, 'Short-lived links', 1, app);
    const file = artifact.downloads[0];
    expect(Date.parse(file.expiresAt)).toBeLessThanOrEqual(Date.now() + 2_000);
    // The same grant signed with this secret: open while it lasts, refused once it is over.
    const aliceKeyId = new URL(file.url, app.baseUrl).searchParams.get('keyId')!;
    const link = (now: number) => {
      const signed = signDownload(
        { secret, ttlSeconds: 60 },
        { artifactId: fromGlobal(artifact.id), format: file.format, apiKeyId: aliceKeyId },
        '',
        now,
      );
      return changed(file.url, (l) => {
        l.searchParams.set('expires', String(signed.grant.expires));
        l.searchParams.set('signature', signed.signature);
      });
    };
    expect((await open(link(Date.now()), 'GET', app)).status).toBe(200);
    await expectRefused(link(Date.now() - 61_000), app);
    // The link handed out with a TTL of 1 s, once that second is over.
    while (Date.now() < Date.parse(file.expiresAt) + 10)
      await new Promise((r) => setTimeout(r, 50));
    await expectRefused(file.url, app);
  });

  it('is 403 once the key that asked for it is revoked; other keys’ links still open', async () => {
    const second = await mint(h, 'alice', ['READ']);
    const [artifact] = await generated(keys.alice!, 'Revoked key', 1);
    const topicId = (
      await db().artifact.findUniqueOrThrow({ where: { id: fromGlobal(artifact.id) } })
    ).topicId;
    const globalTopicId = Buffer.from(`Topic:${topicId}`).toString('base64');
    const [viaSecond] = await artifactsOf(globalTopicId, second.key);
    const url = viaSecond.downloads[0].url;
    expect((await open(url)).status).toBe(200);
    const revoked = await h.gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { id } }',
      { id: second.id },
      keys.alice,
    );
    expect(revoked.errors).toBeUndefined();
    await expectRefused(url);
    expect((await open(artifact.downloads[0].url)).status).toBe(200);
  });

  it("is 403 once the member who asked for it is removed from the topic's team", async () => {
    const team = await teamWithMember(h, 'links');
    const [artifact] = await generated(team.member, 'Member leaves', 1);
    const url = artifact.downloads[1].url;
    expect((await open(url)).status).toBe(200);
    const removed = await h.gql(
      'mutation($t: ID!, $u: String!) { removeTeamMember(teamId: $t, user: $u) }',
      { t: team.teamId, u: team.user },
      team.owner,
    );
    expect(removed.errors).toBeUndefined();
    await expectRefused(url);
  });
});

describe("the operator's signed link", () => {
  it("opens for ADMIN_API_KEY's reader, signed as `operator`, a marker the signature covers", async () => {
    const [artifact] = await generated(keys.alice!, 'Operator links');
    const topicId = (
      await db().artifact.findUniqueOrThrow({ where: { id: fromGlobal(artifact.id) } })
    ).topicId;
    const [asOperator] = await artifactsOf(
      Buffer.from(`Topic:${topicId}`).toString('base64'),
      h.adminKey,
    );
    const url = asOperator.downloads[0].url;
    expect(new URL(url, t.app.baseUrl).searchParams.get('keyId')).toBe('operator');
    expect((await open(url)).status).toBe(200);
    // The marker is signed like a key id: alice's id in its place breaks the link.
    const aliceKeyId = new URL(artifact.downloads[0].url, t.app.baseUrl).searchParams.get('keyId')!;
    await expectRefused(changed(url, (l) => l.searchParams.set('keyId', aliceKeyId)));
  });

  it('ends when ADMIN_API_KEY is rotated', async () => {
    const downloadLinks = {
      secret: 'a download link secret of this test, 32+ characters',
      ttlSeconds: 600,
    };
    const before = await h.startApp({ downloadLinks });
    const [artifact] = await generated(keys.alice!, 'Rotated operator key', 1, before);
    const topicId = (
      await db().artifact.findUniqueOrThrow({ where: { id: fromGlobal(artifact.id) } })
    ).topicId;
    const [asOperator] = await artifactsOf(
      Buffer.from(`Topic:${topicId}`).toString('base64'),
      h.adminKey,
      before,
    );
    const url = asOperator.downloads[0].url;
    const same = await h.startApp({ downloadLinks });
    const rotated = await h.startApp({ downloadLinks, adminApiKey: `${h.adminKey}-rotated` });
    // Another process with the same key opens it; once the key is another, none does.
    expect((await open(url, 'GET', same)).status).toBe(200);
    await expectRefused(url, rotated);
    // A member's link is not bound to the operator's key.
    expect((await open(artifact.downloads[0].url, 'GET', rotated)).status).toBe(200);
  });
});

describe('downloadFilename', () => {
  it('keeps the title as written, minus separators, controls and edge dots', () => {
    expect(downloadFilename('생성형 AI 도입 전략', 'hwpx')).toBe('생성형 AI 도입 전략.hwpx');
    expect(downloadFilename('../Q1/Q2\\review: "final"?', 'docx')).toBe(
      '-Q1-Q2-review- -final--.docx',
    );
    expect(downloadFilename('bell\u0007 and \u202Eright-to-left\nline', 'markdown')).toBe(
      'bell and right-to-left line.md',
    );
    expect(downloadFilename(' .. ', 'markdown')).toBe('report.md');
    expect(downloadFilename('가'.repeat(300), 'hwpx')).toBe(`${'가'.repeat(100)}.hwpx`);
    // Device names Windows keeps, whatever follows their first dot; other names that start so stay.
    expect(downloadFilename('CON', 'docx')).toBe('CON_.docx');
    expect(downloadFilename('nul', 'markdown')).toBe('nul_.md');
    expect(downloadFilename('Com1.v2', 'hwpx')).toBe('Com1_.v2.hwpx');
    expect(downloadFilename('lpt9', 'docx')).toBe('lpt9_.docx');
    expect(downloadFilename('Console plan', 'docx')).toBe('Console plan.docx');
    expect(downloadFilename('COM10', 'docx')).toBe('COM10.docx');
  });
});
