// A start that cannot proceed, as the operator sees it: a second `npm start` on a DATA_DIR
// another instance runs, an API port or a worker's probe port already taken, and a failure we
// do not recognise. Each exits 1; a recognised one says why in one line on stderr, naming the
// variable to change, and an unrecognised one logs `failed to start` with the error itself.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../utils/harness.js';
import { spawnServiceProcess, spawnStart, type Child } from '../utils/processes.js';

const h = useHarness();

/** A DATA_DIR of its own, removed at the end of the file. */
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agent-growth-start-'));
  h.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A port this test holds, as another program would. */
async function heldPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** The child's exit code and what it wrote on each stream. */
async function outcome(child: Child) {
  let stdout = '';
  let stderr = '';
  child.process.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.process.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.process.once('exit', resolve));
  return { code, stdout, stderrLines: stderr.trim().split('\n') };
}

const NEVER = /never printed/;

describe('a start that cannot proceed', () => {
  it('a second npm start on the same DATA_DIR names the instance holding its PostgreSQL', async () => {
    const dir = await dataDir();
    const env = { DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOAD_DEMO_DATA: 'false' };
    const first = spawnStart(h, env, /API listening/);
    await first.ready;
    const second = await outcome(spawnStart(h, env, NEVER));
    expect(second.code).toBe(1);
    expect(second.stderrLines).toHaveLength(1);
    const line = second.stderrLines[0]!;
    expect(line).toMatch(
      /^cannot start: another instance already runs the embedded PostgreSQL of DATA_DIR /,
    );
    expect(line).toContain(`DATA_DIR ${dir} (`);
    // The server's pid, and the first `npm start` (whose node process started it).
    expect(line).toMatch(new RegExp(`PostgreSQL pid \\d+, started by pid ${first.process.pid}\\)`));
    expect(line).toMatch(/: stop it, or set DATA_DIR to another folder$/);
    await first.kill('SIGTERM');
    expect(first.process.exitCode).toBe(0);
  }, 120_000);

  it('an API port in use names the port and PORT', async () => {
    const port = await heldPort();
    const service = spawnServiceProcess(
      h,
      { ROLE: 'api', HOST: '127.0.0.1', PORT: String(port), LOAD_DEMO_DATA: 'false' },
      NEVER,
    );
    const { code, stderrLines } = await outcome(service);
    expect(code).toBe(1);
    expect(stderrLines).toEqual([
      `cannot start: 127.0.0.1:${port} is already in use by another process: stop it, or set PORT to a free port`,
    ]);
  });

  it("a worker's probe port in use names the port and WORKER_HTTP_PORT", async () => {
    const port = await heldPort();
    const worker = spawnServiceProcess(
      h,
      { ROLE: 'worker', HOST: '127.0.0.1', WORKER_HTTP_PORT: String(port) },
      NEVER,
    );
    const { code, stdout, stderrLines } = await outcome(worker);
    expect(code).toBe(1);
    expect(stderrLines).toEqual([
      `cannot start: 127.0.0.1:${port} is already in use by another process: stop it, or set WORKER_HTTP_PORT to a free port`,
    ]);
    // Said before the worker started: it claimed nothing.
    expect(stdout).not.toContain('"msg":"worker started"');
  });

  it('a failure it does not recognise is logged as `failed to start` with its cause', async () => {
    // A data folder PostgreSQL takes for its own but cannot start on.
    const dir = await dataDir();
    await mkdir(path.join(dir, 'postgres'), { recursive: true });
    await writeFile(path.join(dir, 'postgres', 'PG_VERSION'), '15\n');
    const { code, stdout } = await outcome(
      spawnStart(h, { DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0' }, NEVER),
    );
    expect(code).toBe(1);
    const failed = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>)
      .filter((entry) => entry.msg === 'failed to start');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 60 });
    expect(failed[0]!.err.message).toMatch(
      /^the embedded PostgreSQL in .+ exited during its start:/,
    );
    // PostgreSQL's own words: the folder holds no configuration.
    expect(failed[0]!.err.message).toMatch(/could not access the server configuration file/);
    expect(failed[0]!.err.stack).toEqual(expect.any(String));
  }, 60_000);
});
