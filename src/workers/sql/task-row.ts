// The tasks row as raw SQL returns it, and the event log entry written with each change.
import { Prisma } from '../../generated/prisma/client.js';
import type { TaskPriority, TaskStatus } from '../../generated/prisma/enums.js';

export interface TaskRow {
  id: string;
  type: string;
  status: TaskStatus;
  priority: TaskPriority;
  payload: Prisma.JsonValue;
  progressPercent: number;
  currentStep: string | null;
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  runAt: Date;
  lockedBy: string | null;
  lockedUntil: Date | null;
  result: Prisma.JsonValue;
  error: string | null;
  cancellationRequested: boolean;
  webhookUrl: string | null;
  idempotencyKey: string | null;
  lastSequence: number;
  ownerId: string | null;
  agentId: string | null;
  topicId: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /** From the statements that write the hot path's events (claim, finish): that event. */
  event?: TaskEventJson;
}

/**
 * A task_events row as PostgreSQL's to_jsonb gives it (`at` as text), without its id:
 * what a statement wrote, for the notification that announces it (see TaskEventHub).
 */
export interface TaskEventJson {
  taskId: string;
  sequence: number;
  status: TaskStatus;
  progressPercent: number;
  currentStep: string | null;
  message: string | null;
  at: string;
}

/** The SQL of a TaskEventJson column, from a task_events row `alias` (an INSERT's RETURNING *). */
export const eventJson = (alias: string) => Prisma.raw(`to_jsonb(${alias}) - 'id'`);

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'];
const terminal = new Set<string>(TERMINAL_STATUSES);
/** A Set: the task feed asks this once per subscriber per event. */
export const isTerminal = (status: TaskStatus) => terminal.has(status);
