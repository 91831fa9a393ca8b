// A team's plugins as workflow steps (docs/plugins.md#workflow-steps): PLUGIN_TOOL runs a
// TOOL's call, PLUGIN_AGENT an AGENT's prompt through the LLM platform (routed for its
// `service`, metered and budgeted as the team's call, like every call). The step names the
// installation (input.installationId, a plugin of the workflow's team) and its input
// (input.input, checked against the plugin's schema as it runs). A failure that running again
// cannot fix (no such plugin, a refused input, a 4xx) says so; a 429, a 5xx or a timeout is
// retried as the step's task is.
import type { LlmService } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { BadInputError, UpstreamError } from '../../platform/errors.js';
import { isUuid } from '../../platform/ids.js';
import type { Keyring } from '../../platform/vault.js';
import {
  LocalProviderChosen,
  type ChatClient,
  type MeteredUsage,
} from '../../reports/writers/types.js';
import type { PluginNetwork } from './http-call.js';
import { flatten, renderText } from './render.js';
import { manifestOf } from './requests.js';
import { callTool, requireToolInput } from './tools.js';

export interface PluginStepDeps {
  /** Read at each run (a test may replace the gateway's keyring). */
  readonly keyring: Keyring;
  webhooks: PluginNetwork;
  /** The LLM platform's chat client routed for a service. */
  chat(service: LlmService): ChatClient;
}

export interface PluginStep {
  teamId: string;
  workflowId: string;
  apiKeyId: string | null;
  input: unknown;
}

/** A plugin step that running again cannot fix. */
export class PluginStepRefused extends Error {
  override name = 'PluginStepRefused';
}

const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;
const AGENT_MAX_TOKENS = 1_024;

/** The installation id a step names: a global id (`PluginInstallation:<uuid>`, base64) or a row id. */
function installationRowId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (isUuid(value)) return value;
  const [type, id] = Buffer.from(value, 'base64').toString().split(':');
  return type === 'PluginInstallation' && isUuid(id) ? id : undefined;
}

/**
 * The key of the first plugin step whose installation is not the team's (or not one at all):
 * a plan names only its own team's plugins, checked as it is stored.
 */
export async function unknownPluginStep(
  steps: ReadonlyArray<{ key: string; kind: string; input: Record<string, unknown> }>,
  teamId: string,
): Promise<string | undefined> {
  const named = steps
    .filter((step) => step.kind === 'PLUGIN_TOOL' || step.kind === 'PLUGIN_AGENT')
    .map((step) => ({ key: step.key, id: installationRowId(step.input.installationId) }));
  if (!named.length) return undefined;
  const ids = named.flatMap((step) => step.id ?? []);
  const found = new Set(
    (
      await db().pluginInstallation.findMany({
        where: { id: { in: ids }, teamId },
        select: { id: true },
      })
    ).map((row) => row.id),
  );
  return named.find((step) => !step.id || !found.has(step.id))?.key;
}

async function stepPlugin(step: PluginStep, kind: 'TOOL' | 'AGENT') {
  const fields = (step.input ?? {}) as { installationId?: unknown; input?: unknown };
  const id = installationRowId(fields.installationId);
  const installation = id
    ? await db().pluginInstallation.findFirst({ where: { id, teamId: step.teamId } })
    : null;
  if (!installation) throw new PluginStepRefused("no such plugin in the workflow's team");
  if (installation.kind !== kind)
    throw new PluginStepRefused(`the plugin ${installation.name} is a ${installation.kind}`);
  if (installation.status !== 'ACTIVE')
    throw new PluginStepRefused(`the plugin ${installation.name} is disabled`);
  try {
    return { installation, input: requireToolInput(installation, fields.input ?? {}, 'input') };
  } catch (error) {
    if (error instanceof BadInputError) throw new PluginStepRefused(error.message);
    throw error;
  }
}

export async function runPluginToolStep(
  step: PluginStep,
  signal: AbortSignal,
  deps: PluginStepDeps,
): Promise<Record<string, unknown>> {
  const { installation, input } = await stepPlugin(step, 'TOOL');
  let result;
  try {
    result = await callTool(installation, input, deps, signal);
  } catch (error) {
    if (
      error instanceof UpstreamError &&
      ['REFUSED', 'REPLY_TOO_LARGE'].includes(String(error.details.reason))
    )
      throw new PluginStepRefused(error.message);
    throw error;
  }
  if (result.status >= 200 && result.status < 300)
    return { plugin: installation.name, ...result, tokens: 0 };
  const problem = `${installation.name} answered HTTP ${result.status}`;
  if (RETRYABLE_STATUS(result.status)) throw new Error(problem);
  throw new PluginStepRefused(problem);
}

export async function runPluginAgentStep(
  step: PluginStep,
  call: { taskId: string; signal: AbortSignal },
  deps: PluginStepDeps,
): Promise<Record<string, unknown>> {
  const { installation, input } = await stepPlugin(step, 'AGENT');
  const manifest = manifestOf(installation);
  const prompt = renderText(manifest.prompt ?? '', {
    ...flatten('config', installation.config ?? {}),
    ...flatten('input', input),
  });
  const metered = { calls: 0, tokens: 0, costUsd: 0 };
  let text = '';
  try {
    for await (const piece of deps.chat(manifest.service ?? 'WRITE').streamChat({
      system: `You are "${manifest.name}", an agent a team installed. Answer the request.`,
      user: prompt,
      maxTokens: AGENT_MAX_TOKENS,
      signal: call.signal,
      call: {
        teamId: step.teamId,
        apiKeyId: step.apiKeyId,
        taskId: call.taskId,
        workflowId: step.workflowId,
      },
      onRestart: () => (text = ''),
      onMetered: (usage: MeteredUsage) => {
        metered.calls += 1;
        metered.tokens += usage.inputTokens + usage.outputTokens;
        metered.costUsd += usage.costUsd;
      },
    }))
      text += piece;
  } catch (error) {
    if (!(error instanceof LocalProviderChosen)) throw error;
    // No LLM deployment answers for the team: the built-in provider's stand-in reply.
    text = `(no LLM is configured for this team) ${prompt.slice(0, 500)}`;
    error.metered?.(text);
  }
  return {
    plugin: installation.name,
    text: text.trim(),
    tokens: metered.calls ? metered.tokens : Math.ceil((prompt.length + text.length) / 4),
    ...(metered.calls && { costUsd: metered.costUsd }),
  };
}
