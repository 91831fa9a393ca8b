// Presence's timings (docs/architecture.md#presence), read from PRESENCE_REFRESH_MS and
// PRESENCE_TTL_MS by config.ts; the defaults are also what createApp uses when given none.

export interface PresenceSettings {
  /** Each API process marks its members seen (and reads its channels again) this often. */
  refreshMs: number;
  /** A member not seen this long (its process stopped) is gone; longer than refreshMs. */
  ttlMs: number;
}

export const DEFAULT_PRESENCE_SETTINGS: PresenceSettings = { refreshMs: 5_000, ttlMs: 15_000 };
