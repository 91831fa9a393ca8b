// Taxonomies: versioned trees of nodes, stored with a materialised path (ancestorIds)
// so that "a node and all its descendants" is one indexed array containment.
import { randomUUID } from 'node:crypto';
import { db } from '../../platform/db.js';
import { BadInputError, badUserInput, conflict } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { announceChanges } from '../../platform/changes.js';

export interface TaxonomyNodeInput {
  key: string;
  label: string;
  parentKey?: string | null;
}

export interface CreateTaxonomyInput {
  version: string;
  name: string;
  nodes: TaxonomyNodeInput[];
}

export const MAX_TAXONOMY_NODES = 50_000;

interface PlannedNode {
  id: string;
  key: string;
  label: string;
  parentId: string | null;
  path: string[];
  ancestorIds: string[];
  depth: number;
  position: number;
}

/** Parents before children, with paths; BAD_USER_INPUT for duplicates, unknown parents and cycles. */
export function planTaxonomyNodes(nodes: readonly TaxonomyNodeInput[]): PlannedNode[] {
  if (nodes.length === 0) throw badUserInput('nodes must not be empty', { field: 'nodes' });
  if (nodes.length > MAX_TAXONOMY_NODES)
    throw badUserInput(`at most ${MAX_TAXONOMY_NODES} nodes per taxonomy`, { field: 'nodes' });
  // Each refusal names the first node at fault by its path (nodes[2].parentKey).
  const byKey = new Map<string, TaxonomyNodeInput>();
  const duplicates = new Set<string>();
  let firstDuplicate = -1;
  for (const [index, node] of nodes.entries()) {
    if (!node.key.trim() || !node.label.trim())
      throw new BadInputError(
        'every node needs a non-empty key and label',
        { field: 'nodes' },
        `nodes[${index}]`,
      );
    if (byKey.has(node.key)) {
      duplicates.add(node.key);
      if (firstDuplicate < 0) firstDuplicate = index;
    }
    byKey.set(node.key, node);
  }
  if (duplicates.size)
    throw new BadInputError(
      `duplicate node keys: ${[...duplicates].join(', ')}`,
      { field: 'key' },
      `nodes[${firstDuplicate}].key`,
    );
  const unknownParents = nodes
    .filter((n) => n.parentKey && !byKey.has(n.parentKey))
    .map((n) => n.parentKey!);
  if (unknownParents.length) {
    const first = nodes.findIndex((n) => n.parentKey && !byKey.has(n.parentKey));
    throw new BadInputError(
      `unknown parentKey: ${[...new Set(unknownParents)].join(', ')}`,
      { field: 'parentKey', unknownParentKeys: [...new Set(unknownParents)] },
      `nodes[${first}].parentKey`,
    );
  }
  const children = new Map<string | null, TaxonomyNodeInput[]>();
  for (const node of nodes) {
    const parent = node.parentKey ?? null;
    children.set(parent, [...(children.get(parent) ?? []), node]);
  }
  const planned: PlannedNode[] = [];
  const queue: Array<{ node: TaxonomyNodeInput; parent: PlannedNode | null }> = (
    children.get(null) ?? []
  ).map((node) => ({ node, parent: null }));
  while (queue.length) {
    const { node, parent } = queue.shift()!;
    const id = randomUUID();
    const entry: PlannedNode = {
      id,
      key: node.key,
      label: node.label.trim(),
      parentId: parent?.id ?? null,
      path: [...(parent?.path ?? []), node.label.trim()],
      ancestorIds: [...(parent?.ancestorIds ?? []), id],
      depth: parent ? parent.depth + 1 : 0,
      position: planned.length,
    };
    planned.push(entry);
    for (const child of children.get(node.key) ?? []) queue.push({ node: child, parent: entry });
  }
  if (planned.length !== nodes.length) {
    const reached = new Set(planned.map((n) => n.key));
    const cyclic = nodes.filter((n) => !reached.has(n.key)).map((n) => n.key);
    throw new BadInputError(
      `nodes in a parent cycle: ${cyclic.join(', ')}`,
      { field: 'parentKey' },
      `nodes[${nodes.findIndex((n) => !reached.has(n.key))}].parentKey`,
    );
  }
  return planned;
}

/** Into the caller's team; a version taken there is CONFLICT (one of another team is not). */
export async function createTaxonomy(input: CreateTaxonomyInput, caller: Pick<Caller, 'teamId'>) {
  const { teamId } = caller;
  const version = input.version.trim();
  const name = input.name.trim();
  if (!version || version.length > 50)
    throw badUserInput('version must be 1-50 characters', { field: 'version' });
  if (!name || name.length > 200)
    throw badUserInput('name must be 1-200 characters', { field: 'name' });
  const planned = planTaxonomyNodes(input.nodes);
  const where = { teamId_version: { teamId, version } };
  if (await db().taxonomy.findUnique({ where, select: { id: true } })) {
    throw conflict(`taxonomy version ${version} already exists`);
  }
  const created = await db().$transaction(
    async (tx) => {
      const taxonomy = await tx.taxonomy.create({ data: { teamId, version, name } });
      for (let start = 0; start < planned.length; start += 5_000) {
        await tx.taxonomyNode.createMany({
          data: planned
            .slice(start, start + 5_000)
            .map((node) => ({ ...node, taxonomyId: taxonomy.id })),
        });
      }
      return taxonomy;
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
  // taxonomy(version) may now find this one first.
  await announceChanges({ kind: 'taxonomy.created' });
  return created;
}
