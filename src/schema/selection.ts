// What a field's own selection asks for, read off the operation: its fields, inline fragments
// and named fragments (https://spec.graphql.org/October2021/#sec-Selection-Sets), for resolvers
// that start work beside their main read only when a field of their result will need it.
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the resolving field's selection names any of `names` directly or through its
 * fragments. `@skip` and `@include` are not read: a field they leave out still counts, which
 * at worst starts work nobody reads.
 */
export function selectsAnyField(info: GraphQLResolveInfo, names: readonly string[]): boolean {
  const wanted = new Set(names);
  const visited = new Set<string>();
  const found = (set: SelectionSetNode | undefined): boolean => {
    for (const selection of set?.selections ?? []) {
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
