// Child processes of the task benchmarks (workers, subscriber clients), stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WORKER_NODE_ARGS } from '../../src/platform/heap-growth.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface BenchChild {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in its stdout, or in what it printed after `since` characters. */
  waitFor(pattern: RegExp, since?: number): Promise<string>;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** A worker process: started with the Node flags `npm run worker` gives it. */
export function spawnWorkerScript(script: string, env: Record<string, string>): BenchChild {
  return spawnBenchScript(script, env, WORKER_NODE_ARGS);
}

export function spawnBenchScript(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): BenchChild {
  // BENCH_CHILD_NODE_ARGS: e.g. "--cpu-prof --cpu-prof-dir=prof" to profile the children.
  const extraArgs = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const args = [...nodeArgs, ...extraArgs, '--import', 'tsx', path.join(root, script)];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const waiters: Array<{ pattern: RegExp; since: number; resolve: (line: string) => void }> = [];
  child.stdout!.on('data', (data: Buffer) => {
    output += data.toString();
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(output.slice(waiter.since));
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match[0]);
      }
    }
  });
  return {
    child,
    output: () => output,
    waitFor: (pattern, since = 0) =>
      new Promise((resolve, reject) => {
        const match = pattern.exec(output.slice(since));
        if (match) return resolve(match[0]);
        waiters.push({ pattern, since, resolve });
        // 'close', not 'exit': stdout may still be delivering the last lines after 'exit'.
        child.once('close', (code) =>
          reject(new Error(`${script} exited with ${code}:\n${output.slice(-2000)}`)),
        );
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
