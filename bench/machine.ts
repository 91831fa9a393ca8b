// What every benchmark prints beside its figures: the machine, its load, and PostgreSQL's
// version and settings (other processes share the machine).
import os from 'node:os';
import { db } from '../src/platform/db.js';
import { heading, line } from './stats.js';

/** Other processes share the machine: the load is printed with the figures. */
export function loadAverage(): string {
  return (
    os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' / ') + ` (1/5/15 min, ${os.cpus().length} cpus)`
  );
}

/** The machine and the PostgreSQL the figures come from (db() must be connected). */
export async function machine(): Promise<void> {
  heading('machine');
  line('cpus', `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`);
  line(
    'memory',
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free`,
  );
  line('load average', loadAverage());
  line('node', process.version);
  const settings = await db().$queryRaw<
    Array<{
      version: string;
      shared_buffers: string;
      work_mem: string;
      jit: string;
      jit_above_cost: string;
    }>
  >`
    SELECT version(), current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem, current_setting('jit') AS jit, current_setting('jit_above_cost') AS jit_above_cost`;
  const s = settings[0]!;
  line('postgres', s.version.split(' on ')[0]!);
  line(
    'postgres settings',
    `shared_buffers=${s.shared_buffers} work_mem=${s.work_mem} jit=${s.jit} jit_above_cost=${s.jit_above_cost}`,
  );
}
