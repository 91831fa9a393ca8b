// Webhook defaults that config.ts falls back to and tests and benches sign with.

/**
 * The wait before each webhook retry (the last repeats), as Standard Webhooks' reference
 * implementation schedules them: quick ones that ride out a receiver's restart, then minutes
 * and hours for an outage.
 */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  1_000,
  2_000,
  5_000,
  10_000,
  30_000,
  60_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
];

/** Development only: a fixed, public secret so webhooks can be tried without setup. */
export const DEVELOPMENT_WEBHOOK_SECRET =
  'whsec_' + Buffer.from('agent-growth development webhook secret').toString('base64');
