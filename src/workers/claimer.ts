// Filling a worker's free slots from the queue. Attempts that end together are recorded in
// one statement that also claims the tasks for the slots they free (a busy worker's turn is
// one commit); an idle worker claims on wake-ups and polls.
import { db } from '../platform/db.js';
import type { Logger } from '../platform/logger.js';
import { batchWrites } from './batch.js';
import { inHookedTransaction, type FinishHook } from './finish-hook.js';
import { claimTasks } from '../queue/claim.js';
import { finishAndClaimTasks } from '../queue/finish-and-claim.js';
import { finishTasks, type TaskOutcomeOf } from '../queue/finish.js';
import type { TaskRow } from '../queue/task-row.js';
import type { RunningTasks } from './running-tasks.js';

export interface ClaimerOptions {
  workerId: string;
  types: string[];
  leaseMs: number;
  concurrency: number;
  running: RunningTasks;
  /** Starts a claimed task's attempt (it joins `running` at once). */
  start(task: TaskRow): void;
  /** Types whose ends commit with their own rows; their batches run in a transaction. */
  finishHook?: FinishHook;
  log: Logger;
}

export class Claimer {
  /** Records an attempt's end (batched with others, and with the claims they make room for). */
  readonly finish: (outcome: TaskOutcomeOf) => Promise<TaskRow | undefined>;
  /** Slots promised to claims in flight (so two claims never fill the same free slot). */
  private claiming = 0;
  private stopping = false;
  private filling: Promise<void> | undefined;
  private fillAgain = false;
  /** Claims in flight, each until its tasks have started (stop() waits for them). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: ClaimerOptions) {
    this.finish = batchWrites((outcomes: TaskOutcomeOf[]) => this.finishAndClaim(outcomes));
  }

  freeSlots(): number {
    return this.stopping
      ? 0
      : Math.max(0, this.options.concurrency - this.options.running.size - this.claiming);
  }

  /** Claims until every slot is busy or the queue is empty; one fill at a time. */
  fill(): Promise<void> {
    if (this.filling) {
      this.fillAgain = true;
      return this.filling;
    }
    this.filling = this.fillSlots()
      .catch((err) =>
        this.options.log.warn(
          { err: (err as Error).message },
          'claim failed; retrying on the next poll',
        ),
      )
      .finally(() => {
        this.filling = undefined;
      });
    return this.filling;
  }

  /** Claims no more; settles once the claims under way have started their tasks. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.filling;
    await Promise.allSettled([...this.inFlight]);
  }

  private async fillSlots(): Promise<void> {
    const { workerId, types, leaseMs } = this.options;
    do {
      this.fillAgain = false;
      for (let free = this.freeSlots(); free > 0; free = this.freeSlots()) {
        const { claimed } = await this.claim(free, async () => ({
          claimed: await claimTasks(db(), workerId, types, leaseMs, free),
        }));
        if (claimed.length < free) break;
      }
    } while (this.fillAgain && !this.stopping);
  }

  private async finishAndClaim(outcomes: TaskOutcomeOf[]): Promise<Array<TaskRow | undefined>> {
    const { workerId, types, leaseMs, concurrency } = this.options;
    // The finishing tasks still count in `running` until this resolves.
    const limit = this.stopping ? 0 : Math.min(concurrency, this.freeSlots() + outcomes.length);
    const claim = { types, leaseMs, limit };
    const { finishHook, running } = this.options;
    const hooked =
      finishHook && outcomes.some((o) => finishHook.types.has(running.typeOf(o.taskId)!));
    const changed = await this.claim(limit, () =>
      hooked
        ? inHookedTransaction(
            finishHook,
            (tx) => finishTasks(tx.client, workerId, outcomes),
            (tx) => claimTasks(tx.client, workerId, types, leaseMs, limit),
          )
        : finishAndClaimTasks(db(), workerId, outcomes, claim),
    );
    const rows = new Map(changed.finished.map((row) => [row.id, row]));
    return outcomes.map((outcome) => rows.get(outcome.taskId));
  }

  private claim<T extends { claimed: TaskRow[] }>(
    slots: number,
    statement: () => Promise<T>,
  ): Promise<T> {
    this.claiming += slots;
    const started = (async () => {
      try {
        const changed = await statement();
        for (const task of changed.claimed) this.options.start(task);
        return changed;
      } finally {
        this.claiming -= slots;
      }
    })();
    this.inFlight.add(started);
    return started.finally(() => this.inFlight.delete(started));
  }
}
