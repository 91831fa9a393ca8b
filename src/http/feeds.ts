// The live feeds of one API process, made by its app and closed with it: every subscription's
// source. Each feed follows what its domain says it is (a reader, a version, an end).
import { StateFeed } from '../feeds/state-feed.js';
import { LogFeed } from '../feeds/log-feed.js';
import { TaskFeed } from '../feeds/task-feed.js';
import type { Agent } from '../generated/prisma/client.js';
import type { PubSub } from '../platform/pubsub.js';
import { agentVersion, readAgent } from '../services/agents/agents.js';
import {
  isGenerationEnd,
  readTopicGeneration,
  topicGenerationVersion,
} from '../services/topics/generation-state.js';
import {
  isWorkflowEnd,
  type WorkflowEventRow,
  selectWorkflowEventsAfter,
  WORKFLOW_EVENT_PAGE,
  workflowLogPosition,
  workflowStateEvent,
} from '../services/workflows/events.js';
import type { AppFeeds } from '../schema/builder.js';

/** `pollMs`: how often followed keys are read again when notifications are lost. */
export function createAppFeeds(pubsub: PubSub, pollMs = 1_000): AppFeeds & { close(): void } {
  const tasks = new TaskFeed(pubsub, pollMs);
  const topics = new StateFeed({
    pubsub,
    topic: 'topicUpdated',
    pollMs,
    read: (topicId) => readTopicGeneration(topicId, pubsub),
    version: topicGenerationVersion,
    isFinal: isGenerationEnd,
  });
  const agents = new StateFeed<Agent>({
    pubsub,
    topic: 'agentUpdated',
    pollMs,
    read: readAgent,
    version: agentVersion,
    isFinal: () => false,
  });
  const workflows = new LogFeed<WorkflowEventRow, 'workflowEvents'>(
    pubsub,
    {
      topic: 'workflowEvents',
      position: workflowLogPosition,
      current: workflowStateEvent,
      after: selectWorkflowEventsAfter,
      page: WORKFLOW_EVENT_PAGE,
      isEnd: isWorkflowEnd,
    },
    pollMs,
  );
  return {
    tasks,
    topics,
    agents,
    workflows,
    close() {
      tasks.close();
      topics.close();
      agents.close();
      workflows.close();
    },
  };
}
