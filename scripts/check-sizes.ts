// A smell detector, not a cap (docs/architecture.md "Code"): a source file over 500 lines or a
// function over 100 in src, scripts and bench, and a test file over 600 lines, is probably
// doing more than one thing; split it by concept, never just to pass. Generated code is
// skipped. Prints every breach and exits 1; `npm run lint` runs it. A function is anything
// with a body: declarations, methods, arrows and function expressions, first line to last.
// Tests get the file rule only: a describe or it callback is a scenario, long by nature.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const MAX_SOURCE_LINES = 500;
const MAX_TEST_LINES = 600;
const MAX_FUNCTION_LINES = 100;
const root = path.resolve(import.meta.dirname, '..');
/** Each checked folder: its longest file, and whether functions are measured. */
const ROOTS = [
  { dir: 'src', maxFileLines: MAX_SOURCE_LINES, functions: true },
  { dir: 'scripts', maxFileLines: MAX_SOURCE_LINES, functions: true },
  { dir: 'bench', maxFileLines: MAX_SOURCE_LINES, functions: true },
  { dir: 'tests', maxFileLines: MAX_TEST_LINES, functions: false },
];
const SKIPPED = [`src${path.sep}generated${path.sep}`, `tests${path.sep}generated${path.sep}`];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry) && !entry.endsWith('.d.ts') ? [full] : [];
  });
}

function functionBreaches(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const breaches: string[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = lineOf(node.getStart(source));
      const last = lineOf(node.getEnd());
      const lines = last - first + 1;
      if (lines > MAX_FUNCTION_LINES) {
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
        breaches.push(
          `${path.relative(root, file)}:${first}: function ${name} has ${lines} lines (max ${MAX_FUNCTION_LINES})`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return breaches;
}

const breaches: string[] = [];
for (const { dir, maxFileLines, functions } of ROOTS) {
  for (const file of sourceFiles(path.join(root, dir))) {
    const relative = path.relative(root, file);
    if (SKIPPED.some((prefix) => relative.startsWith(prefix))) continue;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > maxFileLines) breaches.push(`${relative}: ${lines} lines (max ${maxFileLines})`);
    if (functions) breaches.push(...functionBreaches(file, text));
  }
}

const RULES = `files ≤ ${MAX_SOURCE_LINES} lines and functions ≤ ${MAX_FUNCTION_LINES} in src, scripts, bench; test files ≤ ${MAX_TEST_LINES} lines`;
if (breaches.length) {
  console.error(`Size rules broken (${RULES}):\n${breaches.map((b) => `  ${b}`).join('\n')}`);
  process.exit(1);
}
console.log(`sizes: ${RULES}`);
