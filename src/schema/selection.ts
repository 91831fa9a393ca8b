// What a field's own selection asks for, read off the operation: its fields, inline fragments
// and named fragments (https://spec.graphql.org/October2021/#sec-Selection-Sets), for resolvers
// that start work beside their main read only when a field of their result will need it.
import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * Whether `@skip` and `@include` leave the selection in, with the operation's variables, as
 * execution decides it (https://spec.graphql.org/October2021/#sec--skip).
 */
function included(selection: SelectionNode, variables: GraphQLResolveInfo['variableValues']) {
  if (getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if !== false;
}

/**
 * Whether the resolving field's selection names any of `names` directly or through its
 * fragments, leaving out what `@skip` and `@include` leave out.
 */
export function selectsAnyField(info: GraphQLResolveInfo, names: readonly string[]): boolean {
  const wanted = new Set(names);
  const visited = new Set<string>();
  const found = (set: SelectionSetNode | undefined): boolean => {
    for (const selection of set?.selections ?? []) {
      if (!included(selection, info.variableValues)) continue;
      if (selection.kind === Kind.FIELD) {
        if (wanted.has(selection.name.value)) return true;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (found(selection.selectionSet)) return true;
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        if (found(info.fragments[selection.name.value]?.selectionSet)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node) => found(node.selectionSet));
}
