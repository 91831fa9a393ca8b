// What a take from several token buckets at once answers, whichever store holds them.
import type { BucketRate } from '../config.js';

export type { BucketRate };

/** One bucket to take from: which kind (key, team, ip), whose, and its size. */
export interface BucketRequest {
  scope: string;
  id: string;
  rate: BucketRate;
}

/** A bucket after the take (or after the refusal, which took nothing). */
export interface BucketState {
  scope: string;
  rate: BucketRate;
  /** Whole tokens left. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  fullInSeconds: number;
  /** Refused by this bucket: seconds until it holds the cost. */
  retryAfterSeconds?: number;
}

export interface TakeOutcome {
  /** Every bucket held the cost, and each gave it; otherwise none gave anything. */
  allowed: boolean;
  buckets: BucketState[];
}

export interface BucketStore {
  take(requests: readonly BucketRequest[], cost: number): Promise<TakeOutcome>;
}

/** Milliseconds one token takes to come back. */
export const msPerToken = (rate: BucketRate) => 60_000 / rate.perMinute;

export const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
