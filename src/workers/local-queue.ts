// The tasks this worker has claimed but not started, as graphile-worker's local queue: a claim
// takes a batch in one statement and the slots draw from it without a round trip each. They
// are leased to this worker (RUNNING in PostgreSQL) while they wait: the heartbeat renews
// them, a cancellation or a lost lease takes them out, and a shutdown hands them back.
import type { TaskPriority } from '../generated/prisma/enums.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';

/** The claim order's first key (the enum's order: HIGH first). */
const RANK: Record<TaskPriority, number> = { HIGH: 0, MEDIUM: 1, LOW: 2 };

export class LocalQueue {
  /** One FIFO per priority; within one, claim order (runAt, then age). */
  private readonly lanes: ClaimedTaskRow[][] = [[], [], []];
  private readonly byId = new Map<string, ClaimedTaskRow>();

  get size(): number {
    return this.byId.size;
  }

  has(taskId: string): boolean {
    return this.byId.has(taskId);
  }

  /** The task waiting to run; undefined: not here. */
  get(taskId: string): ClaimedTaskRow | undefined {
    return this.byId.get(taskId);
  }

  /** Claimed rows, in claim order. A task already here (claimed again) is replaced. */
  add(tasks: readonly ClaimedTaskRow[]): void {
    for (const task of tasks) {
      if (this.byId.has(task.id)) this.remove(task.id);
      this.lanes[RANK[task.priority]]!.push(task);
      this.byId.set(task.id, task);
    }
  }

  /** The task take() would return next, left here. */
  peek(): ClaimedTaskRow | undefined {
    for (const lane of this.lanes) if (lane.length) return lane[0];
    return undefined;
  }

  /** The next task to start: the highest priority first. */
  take(): ClaimedTaskRow | undefined {
    for (const lane of this.lanes) {
      const task = lane.shift();
      if (task) {
        this.byId.delete(task.id);
        return task;
      }
    }
    return undefined;
  }

  remove(taskId: string): ClaimedTaskRow | undefined {
    if (!this.byId.delete(taskId)) return undefined;
    for (const lane of this.lanes) {
      const at = lane.findIndex((task) => task.id === taskId);
      if (at >= 0) return lane.splice(at, 1)[0];
    }
    return undefined;
  }

  /** Every waiting task, taken out (a shutdown hands them back). */
  drain(): ClaimedTaskRow[] {
    const all = this.lanes.flatMap((lane) => lane.splice(0));
    this.byId.clear();
    return all;
  }

  taskIds(): string[] {
    return [...this.byId.keys()];
  }
}
