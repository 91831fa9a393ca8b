// The end of a bench worker script: says it is ready (spawn.ts waits for that line), then on
// SIGTERM stops the worker and closes what it used, in order, and exits.
import { disconnectDatabase } from '../src/platform/db.js';

export function serveUntilTerminated(
  worker: { id: string; stop(graceMs: number): Promise<unknown> },
  ...close: Array<{ close(): Promise<unknown> }>
): void {
  console.log(`ready ${worker.id}`);
  // A signal handler returns nothing: the shutdown runs on its own and exits when done.
  const shutDown = async () => {
    await worker.stop(1_000);
    for (const part of close) await part.close();
    await disconnectDatabase();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutDown());
}
