// Who already runs PostgreSQL on a data folder: postmaster.pid, PostgreSQL's own lock on the
// folder, names the server, and on Linux /proc names the process that started it (another
// `npm start` on the same DATA_DIR). A second server on the folder is refused by that lock.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface DataFolderHolder {
  /** The running server's pid, from postmaster.pid. */
  pid: number;
  /** The process that started it, when the system says (Linux). */
  parentPid?: number;
}

/** The live server holding `databaseDir`, or undefined when none does. */
export async function dataFolderHolder(databaseDir: string): Promise<DataFolderHolder | undefined> {
  const lock = await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(lock.split('\n')[0] ?? '', 10);
  if (!(pid > 0) || !alive(pid)) return undefined;
  return { pid, parentPid: await parentOf(pid) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // Another user's process (the `postgres` user's, for one) is alive all the same.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** The parent's pid from /proc/<pid>/stat; undefined without /proc, or when init adopted it. */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command (field 2) is in parentheses and may hold spaces: the state and ppid follow the
  // last ')'.
  const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return parentPid > 1 ? parentPid : undefined;
}
