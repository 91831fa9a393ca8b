// What a provider kind brings to the gateway: its label and how to make a deployment's
// streaming chat client through the provider's official SDK (its own retries off: the
// router's loop is the one retry loop).
import type { PlannerName } from '../../reports/planner/types.js';
import type { ChatClient } from '../../reports/writers/types.js';

export interface AdapterSettings {
  /** Unset: the vendor's own endpoint. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string;
  /** The fetch the SDK uses (production: one that refuses private addresses at connect). */
  fetch?: typeof fetch;
}

export interface ProviderAdapter {
  /** The `provider` label on /metrics and what planTopic says planned. */
  readonly label: PlannerName;
  /** A deployment's chat client; none for LOCAL (the built-in planner and writer answer). */
  readonly createChat?: (settings: AdapterSettings) => ChatClient;
}
