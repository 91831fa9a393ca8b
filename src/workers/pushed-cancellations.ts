// Cancellations pushed for tasks a worker did not hold yet (their claim may still be on its way
// back: the push of a cancellation that committed right after the claim can come first), kept
// for `ttlMs` and taken at most once. Each is kept with the task's log position when it was
// asked for (its `sequence`): a claimed row already at or past it is a later run (the task
// ended and was retried since), which that cancellation was not about. Bounded by time and by
// MAX_IDS (a push storm cannot grow it without limit: past it, the oldest go first; the
// heartbeat's cancel poll still finds them).
const MAX_IDS = 10_000;

/** A pushed cancellation's position: its sequence, or none (a push that named none applies). */
export type PushedSequence = number | undefined;

/** Whether a cancellation asked for at `pushed` concerns a run claimed at log position `claimed`. */
export const concernsRun = (pushed: PushedSequence, claimed: number) =>
  pushed === undefined || pushed > claimed;

export class PushedCancellations {
  /** Id → when it was added (Date.now()) and its sequence; insertion order is age order. */
  private readonly added = new Map<string, { at: number; sequence: PushedSequence }>();

  constructor(private readonly ttlMs: number) {}

  add(id: string, sequence: PushedSequence): void {
    this.prune();
    this.added.delete(id);
    this.added.set(id, { at: Date.now(), sequence });
    if (this.added.size > MAX_IDS) this.added.delete(this.added.keys().next().value!);
  }

  /**
   * Whether a cancellation was pushed within the ttl for this run of the task (claimed at log
   * position `claimedSequence`); it is forgotten either way.
   */
  take(id: string, claimedSequence: number): boolean {
    if (this.added.size === 0) return false;
    const pushed = this.added.get(id);
    if (pushed === undefined) return false;
    this.added.delete(id);
    return Date.now() - pushed.at <= this.ttlMs && concernsRun(pushed.sequence, claimedSequence);
  }

  private prune(): void {
    const oldest = Date.now() - this.ttlMs;
    for (const [id, { at }] of this.added) {
      if (at >= oldest) break;
      this.added.delete(id);
    }
  }
}
