// Durations in milliseconds read from the environment (config.ts): bounded by what waits them.
import { z } from 'zod';

/**
 * The longest wait a Node timer keeps, 2^31 - 1 ms (about 24.8 days): setTimeout turns a longer
 * one into 1 ms (https://nodejs.org/api/timers.html#settimeoutcallback-delay-args). PostgreSQL's
 * millisecond settings (statement_timeout and the like) stop at the same number.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration in milliseconds: a whole number of at least `min`, at most MAX_TIMER_MS. */
export const milliseconds = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).max(MAX_TIMER_MS).default(fallback);
