// A cached response's tags: an entity `Type:<global id>`, a type `Type`, and a root field
// `Query.<field>`; dropping a tag drops every response holding it.
export const entityTag = (typename: string, globalId: string | number) => `${typename}:${globalId}`;
export const rootFieldTag = (field: string) => `Query.${field}`;
