// The chaos run's settings (from the environment, with defaults) and what its parts share.

export const TASKS = Number(process.env.CHAOS_TASKS ?? 1_000);
export const WORKERS = 3;
export const KILL_EVERY_MS = Number(process.env.CHAOS_KILL_EVERY_MS ?? 3_000);
export const DEADLINE_S = Number(process.env.CHAOS_DEADLINE_S ?? 300);
export const LEASE_MS = Number(process.env.CHAOS_LEASE_MS ?? 3_000);
export const SUBSCRIBERS = Math.min(50, TASKS);
export const ADMIN_KEY = 'chaos-admin-key-0123456789';
export const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'DEAD'];

/** A worker SIGKILLed, and the tasks it was running. */
export interface Kill {
  at: Date;
  taskIds: string[];
}
