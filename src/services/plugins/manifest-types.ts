// A plugin manifest's shape as stored (docs/plugins.md#manifest).

export const PLUGIN_KINDS = ['INTEGRATION', 'TOOL', 'AGENT'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];
export const LLM_SERVICES = ['WRITE', 'PLAN'] as const;

export interface PluginRequestSpec {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** JSON whose strings are templates; null: an INTEGRATION sends the event's own body, a TOOL none. */
  body: unknown;
}

export interface PluginManifest {
  name: string;
  version: string;
  kind: PluginKind;
  description: string;
  events: string[];
  scopes: string[];
  /** JSON Schema of the installation's config (an object). */
  config: Record<string, unknown>;
  /** JSON Schema of a TOOL's or AGENT's input. */
  input: Record<string, unknown> | null;
  request: PluginRequestSpec | null;
  prompt: string | null;
  service: (typeof LLM_SERVICES)[number] | null;
}

export interface ManifestProblem {
  path: string;
  message: string;
}

export interface ManifestRules {
  /** Outside production: http URLs (local stand-ins) are allowed too. */
  allowHttp: boolean;
}
