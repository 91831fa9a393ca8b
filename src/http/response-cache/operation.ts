// What the response cache needs to know of an operation before anything runs: its kind, the
// root fields it asks for (a cached response is tagged with them, so a new row can drop every
// list it would join), and whether it asks for incremental delivery or is live (never
// cached). Read from the document's text once per text.
import { getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import {
  Kind,
  getOperationAST,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { usesIncrementalDelivery } from '../incremental.js';

export interface OperationShape {
  kind: 'query' | 'mutation' | 'subscription';
  /** The root fields asked for (not aliases; none of `__typename`, `__schema`, `__type`). */
  roots: string[];
  /** Any `__` root field (introspection): never cached. */
  introspection: boolean;
  /** @defer or @stream anywhere. */
  incremental: boolean;
  /** A live query (`@live`): its every result is executed (a JSON client's one too). */
  live: boolean;
}

const MAX_REMEMBERED = 1_000;

function rootFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
  into: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) into.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      rootFields(selection.selectionSet, fragments, seen, into);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) rootFields(fragment.selectionSet, fragments, seen, into);
    }
  }
}

function shapeOf(query: string, operationName: string | undefined): OperationShape | null {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return null; // yoga reports the syntax error
  }
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const fields = new Set<string>();
  rootFields(operation.selectionSet, fragments, new Set(), fields);
  const names = [...fields].sort();
  return {
    kind: operation.operation,
    roots: names.filter((name) => !name.startsWith('__')),
    introspection: names.some((name) => name.startsWith('__') && name !== '__typename'),
    incremental: usesIncrementalDelivery(document),
    live: getLiveDirectiveNode(operation) !== null,
  };
}

/** Shapes by document text: the same few documents come again and again. */
export function createShapeReader() {
  const shapes = new Map<string, OperationShape | null>();
  return (params: { query?: unknown; operationName?: unknown } | undefined) => {
    if (typeof params?.query !== 'string') return null;
    const operationName = typeof params.operationName === 'string' ? params.operationName : '';
    const key = `${operationName}\n${params.query}`;
    let shape = shapes.get(key);
    if (shape === undefined) {
      shape = shapeOf(params.query, operationName || undefined);
      if (shapes.size >= MAX_REMEMBERED) shapes.clear();
      shapes.set(key, shape);
    }
    return shape;
  };
}
