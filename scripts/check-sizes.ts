// The layout's size rules (CONVENTIONS.md, "Code"): no source file over 300 lines and no
// function over 60, outside generated code and tests. Prints every breach and exits 1.
// `npm run lint` runs it. A function is anything with a body: declarations, methods,
// arrows and function expressions, measured from its first line to its last.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;
const root = path.resolve(import.meta.dirname, '..');
const ROOTS = ['src', 'scripts', 'bench'];
const SKIPPED = [`src${path.sep}generated${path.sep}`];

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
for (const file of ROOTS.flatMap((dir) => sourceFiles(path.join(root, dir)))) {
  const relative = path.relative(root, file);
  if (SKIPPED.some((prefix) => relative.startsWith(prefix))) continue;
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE_LINES) breaches.push(`${relative}: ${lines} lines (max ${MAX_FILE_LINES})`);
  breaches.push(...functionBreaches(file, text));
}

if (breaches.length) {
  console.error(
    `Size rules broken (files ≤ ${MAX_FILE_LINES} lines, functions ≤ ${MAX_FUNCTION_LINES}):\n${breaches.map((b) => `  ${b}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(`sizes: every file ≤ ${MAX_FILE_LINES} lines, every function ≤ ${MAX_FUNCTION_LINES}`);
