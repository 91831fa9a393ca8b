// The log's format: JSON lines for files, pipes and collectors (CI greps them), pino-pretty's
// lines for a person at a terminal outside production, and LOG_FORMAT over both. A child
// process with a pseudo-terminal is out of reach here: the choice is a pure function, and a
// child whose stdout is a pipe shows that the logger honours it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { prettyLogs } from '../../src/platform/logger.js';

const root = path.resolve(import.meta.dirname, '../..');

/** What a process logging one line writes to its stdout (a pipe), with `env` on top. */
function loggedBy(env: Record<string, string>): string {
  const { LOG_FORMAT: _format, ...inherited } = process.env;
  const script =
    "const { logger } = await import('./src/platform/logger.ts'); " +
    "logger.info({ port: 4000 }, 'API listening');";
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: root,
      // NO_COLOR: pino-pretty's colours would follow vitest's FORCE_COLOR.
      env: { ...inherited, LOG_LEVEL: 'info', NO_COLOR: '1', ...env },
      encoding: 'utf8',
    },
  );
  expect(child.status).toBe(0);
  return child.stdout;
}

describe('log format', () => {
  it('is pretty on a terminal outside production, JSON otherwise, and LOG_FORMAT decides over both', () => {
    const choice = (isTTY: boolean, nodeEnv?: string, logFormat?: string) =>
      prettyLogs({ isTTY, nodeEnv, logFormat });
    expect(choice(true)).toBe(true);
    expect(choice(true, 'development')).toBe(true);
    expect(choice(true, 'test')).toBe(true);
    expect(choice(true, 'production')).toBe(false);
    expect(choice(false)).toBe(false);
    expect(choice(false, 'development')).toBe(false);
    expect(choice(true, 'development', 'json')).toBe(false);
    expect(choice(false, 'production', 'pretty')).toBe(true);
  });

  it('writes JSON lines to a pipe, and pretty lines there with LOG_FORMAT=pretty', () => {
    const json = loggedBy({ NODE_ENV: 'development' });
    expect(JSON.parse(json.trim())).toMatchObject({ level: 30, msg: 'API listening', port: 4000 });
    const pretty = loggedBy({ NODE_ENV: 'development', LOG_FORMAT: 'pretty' });
    expect(pretty).toMatch(/INFO \(\d+\): API listening\n\s+port: 4000/);
    expect(() => JSON.parse(pretty.trim())).toThrow();
  });

  it('refuses a LOG_FORMAT it does not know, naming it', () => {
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
    expect(loadConfig({ LOG_FORMAT: 'json' })).toBeDefined();
  });
});
