// A worker process's young generation: the Node flags `npm run worker` gives it, and its pages
// touched at start (src/platform/heap-growth.ts), seen in the resident memory of a real Node
// process started with those flags.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_NODE_ARGS } from '../../src/platform/heap-growth.js';

const root = path.resolve(import.meta.dirname, '../..');

/** MB of resident memory a worker-flagged Node process gained over `call`. */
function residentGrowth(call: string): number {
  const script = `
    const { preTouchYoungGeneration } = await import(${JSON.stringify(path.join(root, 'src/platform/heap-growth.ts'))});
    const before = process.memoryUsage().rss;
    ${call};
    console.log((process.memoryUsage().rss - before) / 2 ** 20);`;
  const args = [...WORKER_NODE_ARGS, '--import', 'tsx', '--input-type=module', '-e', script];
  return Number(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim());
}

describe('a worker process', () => {
  it('starts with the Node flags the benchmarks measured (npm run worker)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const script: string = pkg.scripts.worker;
    expect(script).toMatch(/^ROLE=worker node /);
    for (const flag of WORKER_NODE_ARGS) expect(script.split(' ')).toContain(flag);
  });

  it('has written both of its 64 MB semi-spaces once preTouchYoungGeneration returns', () => {
    // Without the call the same process keeps them unwritten: the pages come with the first
    // scavenges under load instead.
    expect(residentGrowth('void preTouchYoungGeneration')).toBeLessThan(16);
    expect(residentGrowth('preTouchYoungGeneration()')).toBeGreaterThan(100);
  });
});
