// A worker process's presence: a row in `workers`, renewed by heartbeats, removed on a
// clean stop. queueStats.workersAlive counts rows with a recent heartbeat; the task
// engine (claiming, leases) runs inside this loop.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { db } from '../db.js';
import { logger } from '../logger.js';

export interface WorkerOptions {
  concurrency: number;
  heartbeatIntervalMs: number;
}

export interface RunningWorker {
  id: string;
  stop(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ module: 'worker', workerId: id });
  await db().worker.create({ data: { id, hostname: hostname(), pid: process.pid, concurrency: options.concurrency } });
  const heartbeat = setInterval(() => {
    db()
      .worker.upsert({
        where: { id },
        create: { id, hostname: hostname(), pid: process.pid, concurrency: options.concurrency },
        update: { lastHeartbeatAt: new Date() },
      })
      .catch((err) => log.warn({ err }, 'heartbeat failed'));
  }, options.heartbeatIntervalMs);
  heartbeat.unref();
  log.info({ concurrency: options.concurrency }, 'worker started');
  return {
    id,
    async stop() {
      clearInterval(heartbeat);
      // Best effort: a row left behind stops counting once its heartbeat is stale.
      await db()
        .worker.deleteMany({ where: { id } })
        .catch((err) => log.warn({ err: (err as Error).message }, 'could not remove the worker row'));
      log.info('worker stopped');
    },
  };
}
