// The workflow benchmark's targets, each printed as met or not met.
import { line } from '../stats.js';

export interface Target {
  label: string;
  value: number;
  limit: number;
  unit: string;
  /** true: the value must be at least the limit (a ratio); false: at most (a time). */
  atLeast: boolean;
}

export const check = (
  label: string,
  value: number,
  limit: number,
  unit = 'ms',
  atLeast = false,
): Target => ({ label, value, limit, unit, atLeast });

export function printTargets(targets: readonly Target[]): void {
  for (const target of targets) {
    const met = target.atLeast ? target.value >= target.limit : target.value <= target.limit;
    line(
      target.label,
      `${met ? 'MET    ' : 'NOT MET'} ${target.value.toFixed(2)} ${target.unit} (target ${target.atLeast ? '>=' : '<='} ${target.limit} ${target.unit})`,
    );
  }
}
