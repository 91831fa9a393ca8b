// What an operation costs from its caller's buckets (docs/operations.md "Rate limits"): each
// root field its price, aliases each again, at least 1. Heavier are the fields that run a
// search, call the planner, or enqueue a task; other mutations write, so cost more than reads.
import { getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import {
  getOperationAST,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export type OperationKind = 'query' | 'mutation' | 'subscription' | 'unknown';

export const DEFAULT_COSTS: Record<Exclude<OperationKind, 'unknown'>, number> = {
  query: 1,
  mutation: 2,
  subscription: 1,
};

/** Root fields dearer than their operation type's default. */
export const FIELD_COSTS: Readonly<Record<string, number>> = {
  'Query.queryAgent': 3,
  'Subscription.agentQueryStream': 3,
  'Mutation.planTopic': 5,
  // The planner, as planTopic: planWorkflow, runWorkflow (which also enqueues), replanWorkflow.
  'Mutation.planWorkflow': 5,
  'Mutation.runWorkflow': 5,
  'Mutation.replanWorkflow': 5,
  // These enqueue tasks (a workflow's steps are tasks).
  'Mutation.generateTopicReport': 5,
  'Mutation.refreshCoverage': 5,
  'Mutation.retryTask': 5,
  'Mutation.startWorkflow': 5,
  'Mutation.retryWorkflow': 5,
};

export interface OperationCost {
  kind: OperationKind;
  cost: number;
  /** A live query (`@live`): counted once as it starts, as a subscription is. */
  live?: boolean;
}

const TYPE_NAMES = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

function rootFieldsCost(
  selections: SelectionSetNode,
  kind: Exclude<OperationKind, 'unknown'>,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen: Set<string>,
): number {
  let cost = 0;
  for (const selection of selections.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (!name.startsWith('__'))
        cost += FIELD_COSTS[`${TYPE_NAMES[kind]}.${name}`] ?? DEFAULT_COSTS[kind];
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      cost += rootFieldsCost(selection.selectionSet, kind, fragments, seen);
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value); // a fragment spread twice is one set of fields
      const fragment = fragments.get(selection.name.value);
      if (fragment) cost += rootFieldsCost(fragment.selectionSet, kind, fragments, seen);
    }
  }
  return cost;
}

export function costOfDocument(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationCost {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { kind: 'unknown', cost: 1 };
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const kind = operation.operation as Exclude<OperationKind, 'unknown'>;
  const cost = rootFieldsCost(operation.selectionSet, kind, fragments, new Set());
  return getLiveDirectiveNode(operation)
    ? { kind, cost: Math.max(1, cost), live: true }
    : { kind, cost: Math.max(1, cost) };
}

/** Costs by document text: the same few documents come again and again. */
const MAX_REMEMBERED = 1_000;

export function createCostReader() {
  const byText = new Map<string, OperationCost>();
  return {
    ofText(query: unknown, operationName: string | null | undefined): OperationCost {
      if (typeof query !== 'string') return { kind: 'unknown', cost: 1 };
      const key = `${operationName ?? ''}\n${query}`;
      let found = byText.get(key);
      if (!found) {
        try {
          found = costOfDocument(parse(query), operationName);
        } catch {
          found = { kind: 'unknown', cost: 1 }; // yoga reports the syntax error
        }
        if (byText.size >= MAX_REMEMBERED) byText.clear();
        byText.set(key, found);
      }
      return found;
    },
    /** Only the root selections are walked: cheap enough to do per operation. */
    ofDocument: costOfDocument,
  };
}
