// GraphiQL in a real browser (headless Chromium, driven by puppeteer-core): the page loads
// with no request leaving the machine, runs a query, and a subscription's events appear in
// the result pane. Needs Debian's chromium (.ci/run installs it); without it, this file is
// skipped locally and fails in CI.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
/** Every URL the page asked for. */
const requested: string[] = [];

beforeAll(async () => {
  if (!available) return;
  app = await h.startApp({ graphiqlHeaders: { Authorization: `Bearer ${h.adminKey}` } });
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
    const foreign = requested.filter(
      (url) => !url.startsWith(app.baseUrl) && !/^(data|blob):/.test(url),
    );
    expect(foreign).toEqual([]);
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
    const foreign = requested.filter(
      (url) => !url.startsWith(app.baseUrl) && !/^(data|blob):/.test(url),
    );
    expect(foreign).toEqual([]);
    await page.close();
  });
});
