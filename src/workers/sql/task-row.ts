// The tasks row as raw SQL returns it, and the event log entry written with each change.
import type { Prisma } from '../../generated/prisma/client.js';
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
}

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'];
export const isTerminal = (status: TaskStatus) => TERMINAL_STATUSES.includes(status);
