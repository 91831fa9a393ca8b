// What GraphiQL's editor opens on: a short tour of this API instead of GraphiQL's stock welcome
// (the README's "A short tour" says the same at more length). The last two operations use
// @defer/@stream and @live (incremental delivery and live queries: docs/clients.md).

/** The operations of the tour that show @defer/@stream and @live. */
export const TOUR_DIRECTIVE_EXAMPLES = ['DeferAndStream', 'LiveAgents'] as const;

export const GRAPHIQL_TOUR = /* GraphQL */ `
# Agent Growth API: knowledge agents, the coverage
# of their taxonomy, questions answered from their
# documents, background tasks followed live.
#
# Every request needs a key, in the Headers pane:
#   {"Authorization": "Bearer <your key>"}
# \`npm start\` prints an admin key; createApiKey
# mints keys for users (README, "Teams").
#
# ▶ (Ctrl-Enter) runs the operation you pick.
# $agent and $task go in the Variables pane:
#   {"agent": "<an id from Agents>",
#    "task": "<the task RefreshCoverage made>"}
# Docs and the Explorer (left) list every field.

query Agents {
  agents(first: 5) {
    totalCount
    edges {
      node {
        id
        name
        coverage {
          overallCoverage
          gaps {
            node {
              label
            }
            recommendation
          }
        }
      }
    }
  }
}

query Ask($agent: ID!) {
  queryAgent(agentId: $agent, query: "how is the vector index tuned", topK: 5) {
    totalResults
    hits {
      title
      score
      content
    }
  }
}

mutation RefreshCoverage($agent: ID!) {
  refreshCoverage(input: { agentId: $agent, background: true }) {
    task {
      id
      status
    }
  }
}

subscription FollowTask($task: ID!) {
  taskProgress(taskId: $task) {
    sequence
    status
    progressPercent
    currentStep
  }
}

# Incremental delivery: the agent's name at once,
# its coverage when computed (@defer), the hits
# one by one (@stream).
query DeferAndStream($agent: ID!) {
  agent(id: $agent) {
    name
    ... @defer {
      coverage {
        overallCoverage
      }
    }
  }
  queryAgent(agentId: $agent, query: "vector index", topK: 5) {
    hits @stream(initialCount: 1) {
      title
      score
    }
  }
}

# A live query: answered again as the agents change.
query LiveAgents @live {
  agents(first: 5) {
    edges {
      node {
        name
        coveragePercent
      }
    }
  }
}
`.trimStart();
