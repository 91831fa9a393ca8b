// The typed client example: operations a frontend would write, typed by codegen from
// schema.graphql (the client preset, as Apollo Client or urql consumers use it).
import { graphql } from '../generated/gql.js';

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      user
      scopes
    }
  }
`);

export const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      key
      user
      scopes
    }
  }
`);
