// Commit subjects of at most 72 characters (git's own convention: `git log --oneline` and
// `git shortlog` stay readable), on every commit since the one recorded in
// .commit-subjects-since; older history is left as it is. `npm run lint` runs it. Without git
// history (a tarball, a shallow clone missing that commit) it says so and checks nothing.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const MAX_SUBJECT = 72;
const root = path.resolve(import.meta.dirname, '..');
const since = readFileSync(path.join(root, '.commit-subjects-since'), 'utf8').trim();

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

if (git('cat-file', '-e', `${since}^{commit}`) === undefined) {
  console.log(`commit subjects: not checked (no history back to ${since.slice(0, 12)})`);
  process.exit(0);
}
const log = git('log', '--no-merges', '--format=%h %s', `${since}..HEAD`) ?? '';
const long = log
  .split('\n')
  .filter(Boolean)
  .filter((line) => line.slice(line.indexOf(' ') + 1).length > MAX_SUBJECT);
if (long.length) {
  console.error(
    `Commit subjects over ${MAX_SUBJECT} characters (put the detail in the body):\n${long.map((l) => `  ${l}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(`commit subjects: ≤ ${MAX_SUBJECT} characters since ${since.slice(0, 12)}`);
