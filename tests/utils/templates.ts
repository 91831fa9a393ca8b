// Template test helpers over GraphQL: keys for users, and templates made and changed as a
// client would. Each takes the file's harness.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { CreateApiKeyMutation } from '../client/operations.js';
import type { Harness } from './harness.js';

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** The row id behind a global id. */

export const UPDATE_TEMPLATE = `mutation($id: ID!, $input: UpdateTemplateInput!, $expectedVersion: Int) {
  updateTemplate(id: $id, input: $input, expectedVersion: $expectedVersion) { id version changelog content promptSystem variables } }`;

export function templateHelpers(h: Harness) {
  return {
    async mintKey(user: string, scopes: string[] = ['WRITE']): Promise<string> {
      const response = await h.gql(CreateApiKeyMutation, { input: { user, name: 'k', scopes } });
      expect(response.errors).toBeUndefined();
      return response.data!.createApiKey.key;
    },
    async createTemplate(input: Record<string, unknown>, key?: string): Promise<{ id: string }> {
      const response = await h.gql(
        'mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { id } }',
        { input: { name: unique('tpl'), category: 'DOCS', content: 'Hello {{name}}', ...input } },
        key,
      );
      expect(response.errors).toBeUndefined();
      return response.data.createTemplate;
    },
    /** An update that must succeed; returns the template as updated. */
    async updateTemplate(id: string, input: Record<string, unknown>, key?: string) {
      const response = await h.gql(UPDATE_TEMPLATE, { id, input }, key);
      expect(response.errors).toBeUndefined();
      return response.data.updateTemplate;
    },
  };
}
