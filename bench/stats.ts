// Timing and reporting helpers: plain lines, milliseconds, nearest-rank percentiles.
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p99 of 200 samples is the 198th smallest). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The middle value (the mean of the middle two for an even count): rounds' medians. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Non-finite samples (a stream without hits has no first-hit time) are left out. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = samples.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1),
  };
}

/**
 * The median of the paired differences `a[i] - b[i]` (samples taken side by side, interleaved)
 * and its 95 % confidence interval, distribution-free (the sign test's order statistics:
 * https://en.wikipedia.org/wiki/Sign_test). An upper bound below 0 says `a` is faster, a lower
 * bound above 0 says it is slower; an interval across 0 tells them apart from noise not at all.
 */
export function pairedDifference(
  a: readonly number[],
  b: readonly number[],
): { median: number; low: number; high: number; n: number } {
  const differences = a.map((value, i) => value - b[i]!).sort((x, y) => x - y);
  const n = differences.length;
  const k = Math.max(0, Math.floor(n / 2 - (1.96 * Math.sqrt(n)) / 2));
  return {
    median: percentile(differences, 50),
    low: differences[k] ?? Number.NaN,
    high: differences[n - 1 - k] ?? Number.NaN,
    n,
  };
}

export const ms = (value: number) =>
  (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) + ' ms';

export function formatSummary(s: Summary): string {
  return `n=${s.n} min=${ms(s.min)} p50=${ms(s.p50)} p99=${ms(s.p99)} max=${ms(s.max)} mean=${ms(s.mean)}`;
}

export const ratio = (value: number, baseline: number) =>
  `${(value / baseline).toFixed(1)}x baseline`;

/** Times `run` `n` times, one after the other, after `warmup` untimed runs. */
export async function timeRuns(
  n: number,
  run: (i: number) => Promise<unknown>,
  warmup = 1,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await run(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

export function heading(title: string): void {
  console.log(`\n=== ${title} ===`);
}

export function line(label: string, text: string): void {
  console.log(`${label.padEnd(44)} ${text}`);
}

export interface TargetCheck {
  label: string;
  value: number;
  target: number;
  met: boolean;
}

export function checkTarget(label: string, value: number, target: number): TargetCheck {
  const met = value < target;
  line(`TARGET ${label}`, `${ms(value)} (target < ${ms(target)}): ${met ? 'MET' : 'MISSED'}`);
  return { label, value, target, met };
}

export function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((row) => prefix + row)
    .join('\n');
}

/** Repetitions that fit a time budget, given how long one run took. */
export function repsWithin(
  budgetMs: number,
  oneRunMs: number,
  runsPerRep: number,
  min: number,
  max: number,
): number {
  return Math.max(min, Math.min(max, Math.floor(budgetMs / Math.max(1, oneRunMs * runsPerRep))));
}

/** Latencies (ms), wall time and this process's CPU time (s) of one burst. */
export interface Burst {
  samples: number[];
  seconds: number;
  cpuSeconds: number;
}

/** `requests` calls by `concurrency` clients, each sending the next when its last answered. */
export async function burst(
  requests: number,
  concurrency: number,
  run: () => Promise<unknown>,
): Promise<Burst> {
  const samples: number[] = [];
  let left = requests;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const t = performance.now();
        await run();
        samples.push(performance.now() - t);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    samples,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

/**
 * A 95 % interval for a difference of percentiles between two sides, by a block bootstrap:
 * blocks (batches run apart) are drawn with replacement, both sides' samples of a drawn block
 * together, since what slows one call (a stall of the process) slows its neighbours in the
 * same block. Returns [2.5th, 97.5th] percentile of `resamples` differences.
 */
export function bootstrapDifference(
  blocks: ReadonlyArray<{ a: readonly number[]; b: readonly number[] }>,
  p: number,
  resamples = 200,
  seed = 1,
): [number, number] {
  // A fixed-seed generator (mulberry32): the same samples give the same interval.
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const differences: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[Math.floor(random() * blocks.length)]!;
      a.push(...block.a);
      b.push(...block.b);
    }
    a.sort((x, y) => x - y);
    b.sort((x, y) => x - y);
    differences.push(percentile(a, p) - percentile(b, p));
  }
  differences.sort((x, y) => x - y);
  return [percentile(differences, 2.5), percentile(differences, 97.5)];
}
