// The Cranfield collection (Cranfield II, Cleverdon 1967): 1,400 aeronautics abstracts, 225
// natural-language questions and graded relevance judgements, as the University of Glasgow
// IR group distributes it. Read from a folder outside the repository (see bench/eval/README.md
// for where it comes from and why it is not committed), checked file by file.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CRANFIELD_SOURCE = {
  repository: 'https://github.com/xyxxyyxy/cranvectors',
  commit: '78c84cb834dfa003715b9a7c091548a49682bf86',
  licence:
    'GPL-3.0 (the LICENSE of the repository it is taken from); the collection itself is distributed for research by the University of Glasgow IR group (http://ir.dcs.gla.ac.uk/resources/test_collections/cran/)',
  sha256: {
    'cran.all.1400': '1ff6a3982db4ae6318262fd6b4ccaadaf79521e2a877204c350cf04ec9f1a6ad',
    'cran.qry': '7071f9ccf6af1361f87b7c4d39e5fd647f22e1c43eca1e9f7eb862e000708c96',
    cranqrel: 'e555db745e3f2af96d643d8a7c52c6c8e1ccc644c5a749c671e0c6a086af3c3f',
  },
} as const;

export interface EvalDocument {
  id: string;
  title: string;
  text: string;
}

export interface EvalQuery {
  id: string;
  text: string;
}

export interface Collection {
  documents: EvalDocument[];
  queries: EvalQuery[];
  /** Query id → document id → gain (Cleverdon's code 1 "complete answer" … 4 "minimum interest" as gain 4 … 1). */
  judgements: Map<string, Map<string, number>>;
}

/** Where the steering side keeps shared data files: `shared/` beside the checkout (as CI has it). */
const SHARED_COPY = fileURLToPath(new URL('../../../shared/eval/cranfield', import.meta.url));

/** SEARCH_EVAL_DIR, else the steering side's copy in `../shared/eval/cranfield` when there is one, else the user's cache. */
export function collectionDir(): string {
  if (process.env.SEARCH_EVAL_DIR) return process.env.SEARCH_EVAL_DIR;
  if (existsSync(SHARED_COPY)) return SHARED_COPY;
  return path.join(os.homedir(), '.cache/agent-growth/eval/cranfield');
}

async function readChecked(
  dir: string,
  name: keyof typeof CRANFIELD_SOURCE.sha256,
): Promise<string> {
  const bytes = await readFile(path.join(dir, name));
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== CRANFIELD_SOURCE.sha256[name])
    throw new Error(`${name} in ${dir} is not the expected file (sha256 ${digest})`);
  return bytes.toString('latin1');
}

/** SMART-format records: `.I <id>` then fields `.T`, `.A`, `.B`, `.W`, each running to the next marker. */
function records(text: string): Array<{ id: string; fields: Record<string, string> }> {
  const found: Array<{ id: string; fields: Record<string, string> }> = [];
  let field = '';
  for (const line of text.split('\n')) {
    const start = /^\.I\s+(\d+)\s*$/.exec(line);
    if (start) {
      found.push({ id: String(Number(start[1])), fields: {} });
      field = '';
    } else if (/^\.[TABWI]\s*$/.test(line)) {
      field = line[1]!;
    } else if (found.length && field) {
      const fields = found.at(-1)!.fields;
      fields[field] = fields[field] ? `${fields[field]}\n${line}` : line;
    }
  }
  return found;
}

export async function loadCranfield(dir = collectionDir()): Promise<Collection> {
  const [all, qry, qrel] = await Promise.all([
    readChecked(dir, 'cran.all.1400'),
    readChecked(dir, 'cran.qry'),
    readChecked(dir, 'cranqrel'),
  ]);
  const documents = records(all).map((r) => ({
    id: r.id,
    title: (r.fields.T ?? '').replace(/\s+/g, ' ').trim(),
    text: (r.fields.W ?? '').trim(),
  }));
  // The judgements number the questions 1..225 in file order (cran.qry's own numbers skip).
  const queries = records(qry).map((r, index) => ({
    id: String(index + 1),
    text: (r.fields.W ?? '').replace(/\s+/g, ' ').trim(),
  }));
  const judgements = new Map<string, Map<string, number>>();
  for (const line of qrel.split('\n')) {
    const [query, document, code] = line.trim().split(/\s+/);
    if (!query || !document || !code) continue;
    const relevance = Number(code);
    if (relevance < 1 || relevance > 4) continue;
    if (!judgements.has(query)) judgements.set(query, new Map());
    judgements.get(query)!.set(document, 5 - relevance);
  }
  return { documents, queries, judgements };
}
