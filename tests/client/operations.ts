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

export const CreateTaxonomyMutation = graphql(`
  mutation CreateTaxonomy($input: CreateTaxonomyInput!) {
    createTaxonomy(input: $input) {
      id
      version
      nodes {
        id
        key
        label
        path
        parent {
          id
        }
      }
    }
  }
`);

export const IngestDocumentsMutation = graphql(`
  mutation IngestDocuments($taxonomyVersion: String!, $documents: [DocumentInput!]!) {
    ingestDocuments(taxonomyVersion: $taxonomyVersion, documents: $documents) {
      documentIds
      documentCount
      chunkCount
    }
  }
`);

// Spread by the agent operations below: codegen reads it here, nothing imports it.
graphql(`
  fragment AgentFields on Agent {
    id
    name
    scopeDescription
    taxonomyVersion
    taxonomyNodes {
      id
      label
    }
    retrievalConfig
    featuresConfig
    coveragePercent
    totalDocuments
    totalChunks
    lastCoverageUpdate
    createdAt
    updatedAt
  }
`);

export const CreateAgentMutation = graphql(`
  mutation CreateAgent($input: CreateAgentInput!) {
    createAgentFromTaxonomy(input: $input) {
      ...AgentFields
    }
  }
`);

export const AgentsQuery = graphql(`
  query Agents($search: String, $first: Int, $after: String) {
    agents(search: $search, first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          id
          name
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CoverageQuery = graphql(`
  query Coverage($id: ID!) {
    agent(id: $id) {
      coverage {
        overallCoverage
        totalDocuments
        totalChunks
        computedAt
        nodes {
          node {
            id
            key
          }
          documentCount
          chunkCount
          targetDocuments
          missingDocuments
          coverage
          recommendation
        }
        gaps {
          node {
            key
          }
          coverage
        }
      }
    }
  }
`);

export const TaskProgressSubscription = graphql(`
  subscription TaskProgress($taskId: ID!, $afterSequence: Int) {
    taskProgress(taskId: $taskId, afterSequence: $afterSequence) {
      sequence
      status
      progressPercent
    }
  }
`);

// @defer and @stream (docs/clients.md): an agent's coverage, computed on read, after its name;
// a search's hits one by one after its totals.
export const AgentWithDeferredCoverageQuery = graphql(`
  query AgentWithDeferredCoverage($id: ID!) {
    agent(id: $id) {
      id
      name
      ... @defer(label: "coverage") {
        coverage {
          overallCoverage
          totalDocuments
        }
      }
    }
  }
`);

export const StreamedHitsQuery = graphql(`
  query StreamedHits($agentId: ID!, $query: String!) {
    queryAgent(agentId: $agentId, query: $query, topK: 5) {
      totalResults
      hits @stream(initialCount: 0, label: "hits") {
        index
        chunkId
        title
      }
    }
  }
`);

export const LiveAgentsQuery = graphql(`
  query LiveAgents($first: Int!) @live {
    agents(first: $first) {
      totalCount
      edges {
        node {
          id
          name
          coveragePercent
        }
      }
    }
  }
`);
