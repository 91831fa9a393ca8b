// A stream's results while its caller's rights are checked (src/http/live/stream-guard.ts):
// held until the check ends, then delivered in order, or dropped when the check runs a live
// query again under new rights, whichever of several checks under way they were sent during.
import { describe, expect, it } from 'vitest';
import { OperationResults } from '../../src/http/live/operation-results.js';

class Collected extends OperationResults {
  readonly transport = 'sse' as const;
  readonly delivered: string[] = [];
  protected deliver(json: string): void {
    this.delivered.push(json);
  }
  protected finish(): void {}
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('results held during a check of the caller', () => {
  it('are delivered in order when the check ends', async () => {
    const results = new Collected();
    results.send('before');
    const check = gate();
    results.hold(check.opened);
    results.send('during');
    await settle();
    expect(results.delivered).toEqual(['before']);
    check.open();
    results.send('after');
    await settle();
    expect(results.delivered).toEqual(['before', 'during', 'after']);
  });

  it('are dropped when the check runs the query again, under every hold under way', async () => {
    const results = new Collected();
    const first = gate();
    const second = gate();
    results.hold(first.opened);
    results.send('under the first');
    results.hold(second.opened);
    results.send('under both');
    results.dropHeld();
    results.send('the new run');
    first.open();
    second.open();
    await settle();
    expect(results.delivered).toEqual(['the new run']);
    results.send('later');
    await settle();
    expect(results.delivered).toEqual(['the new run', 'later']);
  });
});
