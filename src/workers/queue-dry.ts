// Whether the queue ran dry, as a worker's claims answer it (turns.ts): a claim that found
// fewer tasks than it asked for says so, unless a wake-up or poll came since it started (a task
// added meanwhile may be past its snapshot). Only the newest claim's answer (by start order)
// counts: an older one coming back after it read an older snapshot. And a claim started after
// the last wake-up covers every task that wake-up announced: while it is under way, a freed
// slot asks for no other (at 500 tasks a second, two of every three claims came back empty
// that way: bench/README.md, "Queue").

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

  /** A wake-up or poll: the queue may have work again. */
  wokeUp(): void {
    this.wakeUps++;
    this.drained = false;
  }

  claimStarted(): ClaimStart {
    this.newestWakeUps = this.wakeUps;
    return { number: ++this.started, wakeUps: this.wakeUps };
  }

  claimAnswered(claim: ClaimStart, short: boolean): void {
    if (claim.number <= this.answered) return;
    this.answered = claim.number;
    this.lastClaimShort = short;
    if (this.wakeUps === claim.wakeUps) this.drained = short;
  }

  /** With the queue dry, a claim under way started after the last wake-up: its answer decides. */
  claimUnderWayCovers(): boolean {
    return (
      this.lastClaimShort && this.started > this.answered && this.newestWakeUps === this.wakeUps
    );
  }
}
