// Whether the queue ran dry, as a worker's claims answer it (turns.ts): a claim that found
// fewer tasks than it asked the queue for says so, unless a wake-up or poll came since it
// started (a task added meanwhile may be past its snapshot). Only the newest claim's answer (by
// start order) counts: an older one coming back after it read an older snapshot. And a claim
// started after the last wake-up covers every task that wake-up announced: while it is under
// way, a freed slot asks for no other (at 500 tasks a second, two of every three claims came
// back empty that way: bench/README.md, "Queue").

/**
 * What a claim asked the queue for: its limit, less what a workflow step's commit made runnable
 * and kept for this worker (`continued`; the queue's part is asked for the rest: commit-steps.ts).
 */
export const askedOfQueue = (limit: number, continued: number) => Math.max(0, limit - continued);

/** A claim under way: its number by start order, and the wake-ups seen when it started. */
export interface ClaimStart {
  number: number;
  wakeUps: number;
}

export class QueueDry {
  /** The newest claim found fewer tasks than it asked for, and nothing woke the worker since. */
  drained = false;
  /** The newest claim that came back found fewer tasks than it asked for (wake-ups or not). */
  lastClaimShort = false;
  private wakeUps = 0;
  private started = 0;
  private answered = 0;
  private newestWakeUps = 0;
  /** The newest claim started has neither answered nor failed. */
  private newestUnderWay = false;

  /** A wake-up or poll: the queue may have work again. */
  wokeUp(): void {
    this.wakeUps++;
    this.drained = false;
  }

  claimStarted(): ClaimStart {
    this.newestWakeUps = this.wakeUps;
    this.newestUnderWay = true;
    return { number: ++this.started, wakeUps: this.wakeUps };
  }

  /**
   * It brought `claimed` tasks, `continued` of them made by its own commit rather than found in
   * the queue. One that asked the queue for none says nothing of it.
   */
  claimAnswered(claim: ClaimStart, answer: { limit: number; claimed: number; continued: number }) {
    this.settled(claim);
    const asked = askedOfQueue(answer.limit, answer.continued);
    if (asked === 0 || claim.number <= this.answered) return;
    this.answered = claim.number;
    this.lastClaimShort = answer.claimed - answer.continued < asked;
    if (this.wakeUps === claim.wakeUps) this.drained = this.lastClaimShort;
  }

  /** The claim failed (it is asked for again): it covers nothing. */
  claimFailed(claim: ClaimStart): void {
    this.settled(claim);
  }

  /** With the queue dry, a claim under way started after the last wake-up: its answer decides. */
  claimUnderWayCovers(): boolean {
    return this.lastClaimShort && this.newestUnderWay && this.newestWakeUps === this.wakeUps;
  }

  private settled(claim: ClaimStart): void {
    if (claim.number === this.started) this.newestUnderWay = false;
  }
}
