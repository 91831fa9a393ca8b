// GraphiQL in a real browser (headless Chromium, driven by puppeteer-core): its first view
// (the tour, the headers pane, how to get a key, the explorer), a query run with the key it
// opened with, and a subscription's events in the result pane, with no request leaving the
// machine. Needs Debian's chromium (.ci/run installs it); without it, this file is skipped
// locally and fails in CI.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MISSING_KEY_MESSAGE } from '../../src/http/context.js';
import { GRAPHIQL_HEADERS_PLACEHOLDER } from '../../src/http/graphiql/options.js';
import { db } from '../../src/platform/db.js';
import { toGlobalId } from '../../src/schema/ids.js';
import { useHarness, type TestApp } from '../utils/harness.js';
import { enqueueTestTask, testSleep } from '../utils/test-tasks.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: the GraphiQL browser test must run in CI`);

const h = useHarness();
let browser: Browser;
let profile: string;
let app: TestApp;
/** No key pre-filled (as against a configured database, or to another machine). */
let bare: TestApp;
/** Every URL the page asked for. */
const requested: string[] = [];

beforeAll(async () => {
  if (!available) return;
  app = await h.startApp({ graphiqlHeaders: { Authorization: `Bearer ${h.adminKey}` } });
  bare = await h.startApp();
  profile = await mkdtemp(path.join(tmpdir(), 'graphiql-chromium-'));
  // The flags keep Chromium's own traffic (updates, sync, metrics) off the network.
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

afterEach(() => h.stopWorkers());

async function openGraphiQL(query: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${app.baseUrl}/graphql?query=${encodeURIComponent(query)}`, {
    waitUntil: 'networkidle0',
  });
  await page.waitForSelector('.graphiql-execute-button');
  return page;
}

/** The result pane's text, spaces dropped (the editor renders them as non-breaking ones). */
const resultText = (page: Page) =>
  page.$eval('.result-window', (pane) => (pane.textContent ?? '').replace(/\s|\u00a0/g, ''));

/** Requests that went anywhere but `origin` (data: and blob: URLs stay in the page). */
const foreignRequests = (urls: string[], origin: string) =>
  urls.filter((url) => !url.startsWith(origin) && !/^(data|blob):/.test(url));

interface FirstView {
  page: Page;
  context: BrowserContext;
  /** Every URL the page asked for. */
  urls: string[];
  /** Each POST /graphql: its operation's name and the headers it carried. */
  posts: Array<{ operationName: string; headers: Record<string, string> }>;
}

/**
 * What a newcomer sees: GraphiQL at /graphql with nothing in the URL, in a browser context of
 * its own (no tabs stored by an earlier page).
 */
async function openFirstView(baseUrl: string): Promise<FirstView> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const view: FirstView = { page, context, urls: [], posts: [] };
  page.on('request', (request) => {
    view.urls.push(request.url());
    if (request.method() !== 'POST') return;
    const body = JSON.parse(request.postData() ?? '{}') as { operationName?: string };
    view.posts.push({ operationName: body.operationName ?? '', headers: request.headers() });
  });
  await page.setViewport({ width: 1400, height: 900 });
  await page.goto(`${baseUrl}/graphql`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('.graphiql-execute-button');
  return view;
}

/** The text of one of GraphiQL's editors (`operation.graphql`, `request-headers.json`, ...). */
const editorText = (page: Page, file: string) =>
  page.$eval(`.monaco-editor[data-uri$="-${file}"] .view-lines`, (lines) =>
    [...lines.children]
      .sort(
        (a, b) =>
          parseFloat((a as HTMLElement).style.top) - parseFloat((b as HTMLElement).style.top),
      )
      .map((line) => (line.textContent ?? '').replace(/\u00a0/g, ' '))
      .join('\n'),
  );

describe.skipIf(!available)("GraphiQL's first view in Chromium", () => {
  it('opens on the tour, the key placeholder and how to get a key, all from this server', async () => {
    const { page, context, urls, posts } = await openFirstView(bare.baseUrl);
    const tour = await editorText(page, 'operation.graphql');
    expect(tour).toMatch(/^# Agent Growth API: knowledge agents/);
    expect(tour).toContain('query Agents {');
    expect(tour).not.toContain('Welcome to');
    expect(await editorText(page, 'request-headers.json')).toBe(GRAPHIQL_HEADERS_PLACEHOLDER);
    // Its introspection went with the placeholder: the result pane says how to get a key.
    await page.waitForFunction(() =>
      (document.querySelector('.result-window')?.textContent ?? '').includes('createApiKey'),
    );
    expect(posts[0]).toMatchObject({
      operationName: 'IntrospectionQuery',
      headers: { authorization: 'Bearer <your key>' },
    });
    const told = JSON.stringify(MISSING_KEY_MESSAGE).replace(/\s/g, '');
    expect(await resultText(page)).toContain(`"message":${told}`);
    expect(await resultText(page)).toContain('"code":"UNAUTHENTICATED"');

    // Running the tour's first operation as it stands: the same answer (the pane shows it as is).
    await page.click('.graphiql-execute-button');
    const item = await page.waitForSelector('::-p-xpath(//*[@role="menuitem"][.="Agents"])');
    const answered = page.waitForResponse(
      (response) => response.request().postData()?.includes('"operationName":"Agents"') ?? false,
    );
    await item!.click();
    const response = await answered;
    expect(response.status()).toBe(401);
    expect(response.request().headers().authorization).toBe('Bearer <your key>');
    expect(await response.json()).toEqual({
      errors: [{ message: MISSING_KEY_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(foreignRequests(urls, bare.baseUrl)).toEqual([]);
    await context.close();
  });

  it('opens with the pre-filled key on this machine, and the explorer lists the root fields', async () => {
    const { page, context, urls } = await openFirstView(app.baseUrl);
    expect(await editorText(page, 'operation.graphql')).toMatch(/^# Agent Growth API/);
    expect(JSON.parse(await editorText(page, 'request-headers.json'))).toEqual({
      Authorization: `Bearer ${h.adminKey}`,
    });
    await page.click('[aria-label="Show GraphiQL Explorer"]');
    // The tour's operations, each with its root type's fields: queries and mutations.
    await page.waitForSelector('.graphiql-explorer-refreshCoverage');
    // Each title bar: the operation's kind, then its name in a text field.
    const roots = await page.$$eval('.graphiql-operation-title-bar', (bars) =>
      bars.map((bar) => `${bar.textContent?.trim()} ${bar.querySelector('input')?.value}`),
    );
    expect(roots).toEqual(expect.arrayContaining(['query Agents', 'mutation RefreshCoverage']));
    for (const field of ['agents', 'queryAgent', 'refreshCoverage', 'createApiKey'])
      expect(await page.$(`.graphiql-explorer-${field}`), field).not.toBeNull();
    expect(foreignRequests(urls, app.baseUrl)).toEqual([]);
    await context.close();
  });
});

describe.skipIf(!available)('GraphiQL in Chromium', () => {
  it('loads from this server alone and runs a query with the key it opened with', async () => {
    const page = await openGraphiQL('{ viewer { user } }');
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() =>
      (document.querySelector('.result-window')?.textContent ?? '').includes('admin'),
    );
    expect(await resultText(page)).toContain('"viewer":{"user":"admin"}');
    expect(
      requested.filter((url) => url.startsWith(`${app.baseUrl}/graphql`)).length,
    ).toBeGreaterThan(1);
    expect(foreignRequests(requested, app.baseUrl)).toEqual([]);
    await page.close();
  });

  it("shows a subscription's events in the result pane as they come", async () => {
    const owner = await db().user.upsert({
      where: { name: 'admin' },
      create: { name: 'admin' },
      update: {},
    });
    const task = await enqueueTestTask(app.pubsub, testSleep, { ms: 600 }, { ownerId: owner.id });
    const page = await openGraphiQL(
      `subscription { taskProgress(taskId: "${toGlobalId('Task', task.id)}") { sequence status } }`,
    );
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() =>
      (document.querySelector('.result-window')?.textContent ?? '').includes('PENDING'),
    );
    await h.startWorker(app.pubsub);
    await page.waitForFunction(
      () => (document.querySelector('.result-window')?.textContent ?? '').includes('COMPLETED'),
      { timeout: 15_000 },
    );
    expect(await resultText(page)).toContain('"status":"COMPLETED"');
    expect(foreignRequests(requested, app.baseUrl)).toEqual([]);
    await page.close();
  });
});
