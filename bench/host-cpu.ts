// The CPU a phase of a benchmark used on this host, by kind of process (PostgreSQL's, Node's,
// the rest), from /proc: how much of the machine a task or a step costs, whatever waits it
// also had. Linux only (undefined elsewhere). Read by hand, not by a library: it is two files'
// fields (proc(5)), and no maintained package reads per-process times without native code.
import { readdirSync, readFileSync } from 'node:fs';

type Group = 'postgres' | 'node' | 'other';
export type CpuTicks = Map<string, { group: Group; ticks: number }>;

// USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK) is not exposed).
const TICKS_PER_SECOND = 100;

function groupOf(command: string): Group {
  if (command.startsWith('postgres')) return 'postgres';
  if (command === 'node' || command === 'MainThread') return 'node';
  return 'other';
}

/** A process's command and CPU ticks so far (user + system); undefined once it is gone. */
function processTicks(pid: string): { command: string; ticks: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime: fields 14 and 15 of proc(5), 12 and 13 after the command.
  return { command, ticks: Number(fields[11]) + Number(fields[12]) };
}

/** One process's CPU milliseconds so far (10 ms steps); undefined when it is not a process here. */
export function processCpuMs(pid: number): number | undefined {
  const used = processTicks(String(pid));
  return used && (used.ticks * 1000) / TICKS_PER_SECOND;
}

/** Every process's CPU ticks so far (user + system), by pid; undefined off Linux. */
export function cpuTicks(): CpuTicks | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const ticks: CpuTicks = new Map();
  for (const pid of pids) {
    const used = processTicks(pid); // undefined: ended since the listing
    if (used) ticks.set(pid, { group: groupOf(used.command), ticks: used.ticks });
  }
  return ticks;
}

export interface CpuUsed {
  postgres: number;
  node: number;
  other: number;
  total: number;
}

/** CPU seconds used since `before`, by group (a process started since counts whole). */
export function cpuSince(before: CpuTicks | undefined): CpuUsed | undefined {
  const after = cpuTicks();
  if (!before || !after) return undefined;
  const used: CpuUsed = { postgres: 0, node: 0, other: 0, total: 0 };
  for (const [pid, now] of after) {
    const then = before.get(pid);
    const ticks = now.ticks - (then && then.group === now.group ? then.ticks : 0);
    used[now.group] += ticks / TICKS_PER_SECOND;
    used.total += ticks / TICKS_PER_SECOND;
  }
  return used;
}

/** "pg 0.17 + node 0.16 + other 0.01 = 0.34 ms" per unit of work. */
export function formatCpuPer(used: CpuUsed, units: number): string {
  const ms = (seconds: number) => ((seconds * 1000) / units).toFixed(3);
  return `PostgreSQL ${ms(used.postgres)} + Node ${ms(used.node)} + other ${ms(used.other)} = ${ms(used.total)} ms CPU`;
}

/** The machine's CPU ticks so far, all CPUs (/proc/stat's `cpu` line); undefined off Linux. */
export function machineTicks(): { busy: number; steal: number; total: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  // user nice system idle iowait irq softirq steal (guest time is counted in user already).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = stat
    .slice(0, stat.indexOf('\n'))
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

/**
 * The machine's CPU since `before`, as shares of all its CPUs' time: busy (any process), and
 * stolen (a virtual machine's CPU time its hypervisor gave to other guests: the host, not the
 * code, when figures drop).
 */
export function machineSince(
  before: ReturnType<typeof machineTicks>,
): { busy: number; steal: number } | undefined {
  const after = machineTicks();
  if (!before || !after || after.total === before.total) return undefined;
  const total = after.total - before.total;
  return { busy: (after.busy - before.busy) / total, steal: (after.steal - before.steal) / total };
}
