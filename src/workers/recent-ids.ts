// Ids seen within the last `ttlMs`, taken at most once: a worker's memory of cancellations
// pushed for tasks it did not hold yet. Bounded by time and by MAX_IDS (a push storm cannot
// grow it without limit: past it, the oldest go first; the heartbeat's cancel poll still
// finds them).
const MAX_IDS = 10_000;

export class RecentIds {
  /** Id → when it was added (Date.now()); insertion order is age order. */
  private readonly added = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  add(id: string): void {
    this.prune();
    this.added.delete(id);
    this.added.set(id, Date.now());
    if (this.added.size > MAX_IDS) this.added.delete(this.added.keys().next().value!);
  }

  /** Whether the id was added within the ttl; it is forgotten either way. */
  take(id: string): boolean {
    if (this.added.size === 0) return false;
    const at = this.added.get(id);
    if (at === undefined) return false;
    this.added.delete(id);
    return Date.now() - at <= this.ttlMs;
  }

  private prune(): void {
    const oldest = Date.now() - this.ttlMs;
    for (const [id, at] of this.added) {
      if (at >= oldest) break;
      this.added.delete(id);
    }
  }
}
