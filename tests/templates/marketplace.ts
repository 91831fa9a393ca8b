// The templates marketplace test files' operations and their helpers over GraphQL:
// keys for users, templates made with every field read back, and a search paged through.
import { expect } from 'vitest';
import { CreateApiKeyMutation } from '../client/operations.js';
import type { Harness } from '../utils/harness.js';
import { unique } from '../utils/templates.js';

const FIELDS =
  'id name description category tags isPublic isOfficial isFeatured promptSystem content variables version changelog usageCount ratingAverage ratingCount parent { id name }';
export const CREATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { ${FIELDS} } }`;
export const UPDATE = `mutation($id: ID!, $input: UpdateTemplateInput!) { updateTemplate(id: $id, input: $input) { ${FIELDS} } }`;
export const GET = `query($id: ID!) { template(id: $id) { ${FIELDS} } }`;
export const DELETE = 'mutation($id: ID!) { deleteTemplate(id: $id) }';
export const FORK = `mutation($id: ID!, $name: String) { forkTemplate(id: $id, name: $name) { ${FIELDS} } }`;
export const RENDER =
  'mutation($id: ID!, $variables: JSON!) { renderTemplate(id: $id, variables: $variables) { content template { id usageCount } } }';
export const RATE =
  'mutation($id: ID!, $stars: Int!, $review: String) { rateTemplate(id: $id, stars: $stars, review: $review) { id ratingAverage ratingCount } }';
export const FLAGS =
  'mutation($id: ID!, $isOfficial: Boolean, $isFeatured: Boolean) { setTemplateFlags(id: $id, isOfficial: $isOfficial, isFeatured: $isFeatured) { id isOfficial isFeatured } }';
export const LIST = `query($search: String, $filter: TemplateFilter, $orderBy: TemplateOrder, $first: Int, $after: String) {
  templates(search: $search, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name ratingAverage usageCount createdAt } }
  }
}`;

export interface TemplateInput {
  name?: string;
  description?: string | null;
  category?: string;
  tags?: string[];
  isPublic?: boolean;
  promptSystem?: string | null;
  content?: string;
}

/** Helpers bound to the file's harness. */
export function marketplace(h: Harness) {
  async function mintKey(user: string, scopes: string[] = ['WRITE']): Promise<string> {
    const response = await h.gql(CreateApiKeyMutation, { input: { user, name: 'k', scopes } });
    expect(response.errors).toBeUndefined();
    return response.data!.createApiKey.key;
  }

  async function createTemplate(input: TemplateInput = {}, key?: string) {
    const response = await h.gql(
      CREATE,
      { input: { name: unique('tpl'), category: 'DOCS', content: 'Hello {{name}}', ...input } },
      key,
    );
    expect(response.errors).toBeUndefined();
    return response.data.createTemplate;
  }

  /** Every node of a `templates` query, following endCursor page by page. */
  async function allPages(variables: Record<string, unknown>, key?: string, first = 2) {
    const names: string[] = [];
    const ids: string[] = [];
    let after: string | null = null;
    let totalCount = -1;
    for (let page = 0; page < 100; page++) {
      const response: { data?: any; errors?: unknown } = await h.gql(
        LIST,
        { ...variables, first, after },
        key,
      );
      expect(response.errors).toBeUndefined();
      const connection: any = response.data.templates;
      totalCount = connection.totalCount;
      for (const edge of connection.edges) {
        names.push(edge.node.name);
        ids.push(edge.node.id);
      }
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    return { names, ids, totalCount };
  }

  return { mintKey, createTemplate, allPages };
}
