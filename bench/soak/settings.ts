// The soak run's settings (from the environment, with defaults) and what its parts share.

export const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
export const SUBSCRIPTIONS = Number(process.env.SOAK_SUBSCRIPTIONS ?? 1_000);
export const RATE = Number(process.env.SOAK_RATE ?? 50);
export const AGENTS = 10;
export const WARM_UP_S = Math.min(60, SECONDS / 5);
/**
 * The RSS trend is judged over the last 5 minutes of a run of 10 or more: at 6 minutes the RSS
 * after a full collection was seen still rising by the fifth minute with the heap flat, a
 * warm-up a trend cannot tell from a leak (bench/README.md, "Soak"). Shorter runs only report.
 */
export const TREND_JUDGED = SECONDS >= 600;
export const ADMIN_KEY = 'soak-admin-key-0123456789';

export const HEADERS = { authorization: `Bearer ${ADMIN_KEY}` };
