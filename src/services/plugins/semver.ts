// Plugin versions are Semantic Versioning 2.0.0 (semver.org). Written here: the `semver`
// package in node_modules is only a development tool's dependency (absent from a production
// install), and checking and ordering versions is the grammar below and §11's rules.

// semver.org's suggested regular expression, with named groups.
const IDENTIFIER = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER = new RegExp(
  '^(?<major>0|[1-9]\\d*)\\.(?<minor>0|[1-9]\\d*)\\.(?<patch>0|[1-9]\\d*)' +
    `(?:-(?<pre>${IDENTIFIER}(?:\\.${IDENTIFIER})*))?` +
    '(?:\\+(?<build>[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
);

export const isSemver = (text: unknown): text is string =>
  typeof text === 'string' && text.length <= 256 && SEMVER.test(text);

function compareIdentifiers(a: string, b: string): number {
  const numericA = /^\d+$/.test(a);
  const numericB = /^\d+$/.test(b);
  if (numericA && numericB) return Math.sign(Number(a) - Number(b));
  if (numericA) return -1;
  if (numericB) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Precedence (semver.org §11): negative, 0 or positive; build metadata does not count. */
export function compareSemver(a: string, b: string): number {
  const left = SEMVER.exec(a)?.groups;
  const right = SEMVER.exec(b)?.groups;
  if (!left || !right) throw new Error('not a semantic version');
  for (const part of ['major', 'minor', 'patch'] as const) {
    const difference = Number(left[part]) - Number(right[part]);
    if (difference !== 0) return Math.sign(difference);
  }
  if (!left.pre || !right.pre) return left.pre ? -1 : right.pre ? 1 : 0;
  const preA = left.pre.split('.');
  const preB = right.pre.split('.');
  for (let i = 0; i < Math.min(preA.length, preB.length); i++) {
    const order = compareIdentifiers(preA[i]!, preB[i]!);
    if (order !== 0) return order;
  }
  return Math.sign(preA.length - preB.length);
}
