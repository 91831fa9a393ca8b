// Running a TOOL: its input checked against the manifest's schema, its one declared HTTP call
// rendered (requests.ts) and sent within its bounds (http-call.ts), and the answer: its status,
// its body (JSON when it parses, else text) and the latency. By hand (runPluginTool, any
// member who may write in the team) or as a PLUGIN_TOOL workflow step.
import { UpstreamError } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { requireWrite } from '../auth/permissions.js';
import { callPlugin, PluginCallError, type PluginNetwork } from './http-call.js';
import { refuse } from './install-checks.js';
import { readablePlugin } from './installations.js';
import { compileSchema, isProblem, valueProblems } from './json-schema.js';
import { manifestOf, toolRequest, type InstalledPlugin } from './requests.js';
import type { Keyring } from '../../platform/vault.js';
import { PluginRefusal } from './target.js';
import { conflict } from '../../platform/errors.js';

export interface ToolResult {
  output: unknown;
  status: number;
  latencyMs: number;
  retryAfterSeconds: number | null;
}

export interface ToolDeps {
  keyring: Keyring;
  webhooks: PluginNetwork;
}

/** The input, or BAD_USER_INPUT at the path of its first problem (`input.city`). */
export function requireToolInput(
  installation: InstalledPlugin,
  input: unknown,
  argument = 'input',
) {
  const schema = compileSchema(manifestOf(installation).input);
  if (isProblem(schema))
    throw refuse(argument, argument, 'the installed manifest has no usable input schema');
  const first = valueProblems(schema, input)[0];
  if (first)
    throw refuse(argument, first.path ? `${argument}.${first.path}` : argument, first.message);
  return input as Record<string, unknown>;
}

function outputOf(body: Buffer, contentType: string | null): unknown {
  const text = body.toString('utf8');
  if (contentType?.includes('json') || /^\s*[[{"]/.test(text))
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  return text;
}

/** The call with this (checked) input; a failure without an answer is UPSTREAM_FAILED naming why. */
export async function callTool(
  installation: InstalledPlugin,
  input: Record<string, unknown>,
  deps: ToolDeps,
  signal?: AbortSignal,
): Promise<ToolResult> {
  try {
    const request = await toolRequest(installation, input, {
      keyring: deps.keyring,
      network: deps.webhooks,
    });
    const reply = await callPlugin(request, deps.webhooks, signal);
    return {
      output: outputOf(reply.body, reply.contentType),
      status: reply.status,
      latencyMs: reply.latencyMs,
      retryAfterSeconds: reply.retryAfterSeconds,
    };
  } catch (error) {
    if (error instanceof PluginRefusal)
      throw new UpstreamError(`refused: ${error.message}`, { reason: 'REFUSED' });
    if (error instanceof PluginCallError)
      throw new UpstreamError(`the tool's call failed: ${error.message}`, { reason: error.reason });
    throw error;
  }
}

export async function runPluginTool(
  id: string,
  input: unknown,
  caller: Caller,
  deps: ToolDeps,
): Promise<ToolResult> {
  const installation = await readablePlugin(id, caller);
  requireWrite(caller, installation.teamId, 'PluginInstallation', true);
  if (installation.kind !== 'TOOL')
    throw refuse(
      'id',
      'id',
      `a ${installation.kind} is not run by hand (runPluginTool runs a TOOL)`,
    );
  if (installation.status !== 'ACTIVE')
    throw conflict('The plugin is disabled: turn it on with updatePluginInstallation', {
      status: installation.status,
    });
  return callTool(installation, requireToolInput(installation, input), deps);
}
