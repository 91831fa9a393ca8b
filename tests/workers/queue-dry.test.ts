// Whether a worker's queue ran dry (src/workers/queue-dry.ts), from its claims' answers and the
// wake-ups between them: the rules the worker's turns follow when they decide to claim again.
import { describe, expect, it } from 'vitest';
import { QueueDry } from '../../src/workers/queue-dry.js';

const answer = (limit: number, claimed: number, continued = 0) => ({ limit, claimed, continued });

describe('a dry queue', () => {
  it('is drained by a short answer with no wake-up since the claim started', () => {
    const dry = new QueueDry();
    dry.claimAnswered(dry.claimStarted(), answer(32, 3));
    expect(dry.drained).toBe(true);
    dry.wokeUp();
    expect(dry.drained).toBe(false);
  });

  it('is not drained by a short answer when a wake-up came during the claim', () => {
    const dry = new QueueDry();
    const claim = dry.claimStarted();
    dry.wokeUp();
    dry.claimAnswered(claim, answer(32, 0));
    expect(dry.lastClaimShort).toBe(true);
    expect(dry.drained).toBe(false);
  });

  it('takes the newest answer: an older claim coming back short after a full newer one changes nothing', () => {
    const dry = new QueueDry();
    const older = dry.claimStarted();
    dry.wokeUp();
    const newer = dry.claimStarted();
    dry.claimAnswered(newer, answer(32, 32));
    dry.claimAnswered(older, answer(32, 1));
    expect(dry.lastClaimShort).toBe(false);
    expect(dry.drained).toBe(false);
  });

  it('covers the last wake-up with the claim that started after it, until that claim answers or fails', () => {
    const dry = new QueueDry();
    dry.claimAnswered(dry.claimStarted(), answer(32, 0));
    const older = dry.claimStarted();
    dry.wokeUp();
    expect(dry.claimUnderWayCovers()).toBe(false);
    const covering = dry.claimStarted();
    dry.claimAnswered(older, answer(32, 0));
    expect(dry.claimUnderWayCovers()).toBe(true);
    dry.claimFailed(covering);
    // Failed, it found nothing: a freed slot claims again.
    expect(dry.claimUnderWayCovers()).toBe(false);
    const again = dry.claimStarted();
    expect(dry.claimUnderWayCovers()).toBe(true);
    dry.claimAnswered(again, answer(32, 0));
    expect(dry.claimUnderWayCovers()).toBe(false);
    expect(dry.drained).toBe(true);
  });

  it("counts a step commit's claim by what it asked the queue for, not the room its own continuations took", () => {
    const dry = new QueueDry();
    // Room for 8: 5 went to the steps the commit made runnable, the queue gave the other 3.
    dry.claimAnswered(dry.claimStarted(), answer(8, 8, 5));
    expect(dry.lastClaimShort).toBe(false);
    expect(dry.drained).toBe(false);
    // All 8 to continuations: the queue was asked for nothing and says nothing.
    dry.claimAnswered(dry.claimStarted(), answer(8, 8, 8));
    expect(dry.lastClaimShort).toBe(false);
    dry.claimAnswered(dry.claimStarted(), answer(8, 6, 5));
    expect(dry.drained).toBe(true);
  });
});
