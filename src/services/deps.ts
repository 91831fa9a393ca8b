// What the domain services need from the process beyond their arguments: made once by main
// (or a test) and passed down, never held in module state.
import type { LlmGateway } from '../llm/gateway.js';
import type { PubSub } from '../platform/pubsub.js';
import type { ClaimedTaskRow } from '../queue/task-row.js';
import type { KeySettings } from './api-keys/api-keys.js';
import type { Presence } from './presence/presence.js';
import type { ApiKeyAuthenticator } from './auth/authenticator.js';
import type { ServiceMetrics } from './metrics.js';
import type { WebhookSettings } from './webhooks/delivery.js';
import type { TopicSettings } from './topics/settings.js';
import type { DownloadLinkSettings } from './topics/download-links.js';
import type { WorkflowSettings } from './workflows/settings.js';

export interface ServiceDeps {
  pubsub: PubSub;
  /** The LLM gateway: routed planner and writer, metering, budgets, the key vault's keyring. */
  llm: LlmGateway;
  /** Planning topics: the planner's budget and the plan rate limit. */
  topicSettings: TopicSettings;
  webhooks: WebhookSettings;
  /** This API process's key cache: a revocation drops the key from it at once. */
  apiKeys: ApiKeyAuthenticator;
  /** What minting a key does besides (AUTO_JOIN_DEFAULT_TEAM). */
  keySettings: KeySettings;
  /** A task's after-finish step, for tasks that end outside a worker (cancelled before they ran). */
  taskFinished(task: ClaimedTaskRow): Promise<void>;
  /** Workflow limits (steps, replans, parallelism) and the token price. */
  workflows: WorkflowSettings;
  /** This process's counts (tasks enqueued, webhooks, LLM calls). */
  metrics: ServiceMetrics;
  /** How report files' signed links are signed, and how long they work. */
  downloadLinks: DownloadLinkSettings;
  /** This API process's presence: who follows which object (docs/architecture.md#presence). */
  presence: Presence;
}
