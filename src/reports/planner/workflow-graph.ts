// A plan's graph: a dependency order (or one cycle, to name), and the critical path. Kahn's
// algorithm and a longest-path pass, both linear in steps and edges; by hand, as they are a
// few lines each and no graph library is a dependency here.

export interface GraphStep {
  key: string;
  dependsOn: readonly string[];
}

/** Every key in an order where each step comes after its dependencies; or one cycle's keys. */
export function dependencyOrder(
  steps: readonly GraphStep[],
): { order: string[] } | { cycle: string[] } {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const step of steps) {
    waiting.set(step.key, step.dependsOn.length);
    for (const parent of step.dependsOn) {
      const list = dependents.get(parent);
      if (list) list.push(step.key);
      else dependents.set(parent, [step.key]);
    }
  }
  const order: string[] = [];
  for (const step of steps) if (step.dependsOn.length === 0) order.push(step.key);
  for (let i = 0; i < order.length; i++) {
    for (const child of dependents.get(order[i]!) ?? []) {
      const left = waiting.get(child)! - 1;
      waiting.set(child, left);
      if (left === 0) order.push(child);
    }
  }
  if (order.length === steps.length) return { order };
  return { cycle: findCycle(steps, new Set(order)) };
}

/** Among the steps Kahn could not order, each waits on another of them: walk until a repeat. */
function findCycle(steps: readonly GraphStep[], ordered: ReadonlySet<string>): string[] {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const start = steps.find((step) => !ordered.has(step.key))!;
  const seenAt = new Map<string, number>();
  const path: string[] = [];
  let key = start.key;
  while (!seenAt.has(key)) {
    seenAt.set(key, path.length);
    path.push(key);
    key = byKey.get(key)!.dependsOn.find((parent) => !ordered.has(parent))!;
  }
  // The walk follows dependencies backwards; the cycle reads in running order reversed.
  return path.slice(seenAt.get(key)).reverse();
}

/** The longest chain by `seconds` (steps in running order) and its length. */
export function criticalPath(
  steps: readonly GraphStep[],
  order: readonly string[],
  seconds: (key: string) => number,
): { keys: string[]; seconds: number } {
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  for (const key of order) {
    let best = 0;
    let bestParent: string | undefined;
    for (const parent of byKey.get(key)!.dependsOn) {
      const at = finish.get(parent) ?? 0;
      if (at > best || bestParent === undefined) {
        best = at;
        bestParent = parent;
      }
    }
    finish.set(key, best + seconds(key));
    via.set(key, bestParent);
  }
  let end: string | undefined;
  for (const key of order) if (end === undefined || finish.get(key)! > finish.get(end)!) end = key;
  const keys: string[] = [];
  for (let key = end; key !== undefined; key = via.get(key)) keys.push(key);
  return { keys: keys.reverse(), seconds: end === undefined ? 0 : finish.get(end)! };
}
