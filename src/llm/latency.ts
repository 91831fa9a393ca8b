// LOWEST_LATENCY's view of each deployment: a moving window of its recent calls in this
// process (the last WINDOW_CALLS within WINDOW_MS), each call's time to first token (all our
// calls stream), and a failed call counted at the window's age limit so a broken deployment
// ranks last. Old samples age out, so a deployment that recovered is unknown again, and
// unknown ranks as fast: it is tried.
const WINDOW_CALLS = 10;
const WINDOW_MS = 5 * 60_000;

interface Sample {
  at: number;
  ms: number;
}

export class LatencyWindow {
  private readonly samples = new Map<string, Sample[]>();

  record(deploymentId: string, ms: number, at = Date.now()): void {
    let list = this.samples.get(deploymentId);
    if (!list) this.samples.set(deploymentId, (list = []));
    list.push({ at, ms });
    if (list.length > WINDOW_CALLS) list.shift();
  }

  /** The median of the window; undefined without recent samples. */
  p50(deploymentId: string, now = Date.now()): number | undefined {
    const list = this.samples.get(deploymentId);
    if (!list) return undefined;
    while (list.length && now - list[0]!.at > WINDOW_MS) list.shift();
    if (list.length === 0) return undefined;
    const sorted = list.map((sample) => sample.ms).sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }
}
