// The LLM workflow planner: the same context as the local one, asked of a chat model for a
// JSON plan; the reply is parsed (zod) and checked like any plan. Agents are named A1, A2, …
// in the prompt, since a model copies short handles more reliably than ids.
import { z } from 'zod';
import type { ChatClient, LlmCallScope } from '../writers/types.js';
import type { PlannerName } from './types.js';
import {
  COMPLEXITIES,
  PLUGIN_STEP_KINDS,
  STEP_KINDS,
  type PlannedStep,
  type ReplanContext,
  type WorkflowPlanContext,
} from './workflow-types.js';

const PLAN_MAX_TOKENS = 4_000;

const replySchema = z.object({
  steps: z
    .array(
      z.object({
        key: z.string(),
        kind: z.string(),
        agent: z.string().nullish(),
        dependsOn: z.array(z.string()).default([]),
        title: z.string().nullish(),
        description: z.string().nullish(),
        complexity: z.number().nullish(),
      }),
    )
    .min(1),
});

function prompt(
  context: WorkflowPlanContext,
  replan?: ReplanContext,
): { system: string; user: string } {
  const system = [
    'You plan multi-agent workflows. Reply with one JSON object only, no prose:',
    '{"steps":[{"key":"…","kind":"…","agent":"A1"|null,"dependsOn":["key",…],' +
      '"title":"…","description":"…","complexity":0.7|1.0|1.5}]}',
    `Kinds: ${STEP_KINDS.filter((kind) => kind !== 'NOOP' && !PLUGIN_STEP_KINDS.has(kind)).join(', ')}.`,
    'RETRIEVE and REFRESH_COVERAGE name an agent; WRITE_SECTION has a title and description ' +
      'and depends on the retrievals it uses; one SYNTHESIZE depends on every section.',
    'Keys are short, unique, letters, digits and - only. No cycles.',
  ].join('\n');
  const lines = [`Goal: ${context.goal}`, '', 'Agents:'];
  context.agents.forEach((agent, index) => {
    const scope = agent.scopeDescription ? ` (${agent.scopeDescription.slice(0, 200)})` : '';
    const coverage = agent.lastCoverageUpdate
      ? `updated ${agent.lastCoverageUpdate.toISOString()}`
      : 'never computed';
    lines.push(`- A${index + 1}: ${agent.name}${scope}; coverage ${coverage}`);
  });
  if (context.guide) lines.push('', 'Outline guide:', context.guide.slice(0, 4_000));
  if (replan) {
    lines.push('', 'Steps so far (keep their keys; plan only the steps still to run):');
    for (const each of replan.steps.filter((step) => step.started)) {
      const error = each.error ? `: ${each.error.slice(0, 200)}` : '';
      const summary = each.summary ? ` — ${each.summary.slice(0, 200)}` : '';
      lines.push(`- ${each.key} (${each.kind}) ${each.status}${error}${summary}`);
    }
    if (replan.hint) lines.push('', `Hint: ${replan.hint}`);
  }
  return { system, user: lines.join('\n') };
}

/** The first {...} of the reply: models wrap JSON in prose or fences despite being told. */
function jsonOf(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('the reply holds no JSON object');
  return JSON.parse(text.slice(start, end + 1));
}

const nearestComplexity = (value: number | null | undefined) =>
  value == null
    ? 1
    : COMPLEXITIES.reduce((best, each) =>
        Math.abs(each - value) < Math.abs(best - value) ? each : best,
      );

export async function planWorkflowWithLlm(
  chat: ChatClient,
  context: WorkflowPlanContext,
  signal: AbortSignal,
  options: { replan?: ReplanContext; call?: LlmCallScope; attemptTimeoutMs?: number } = {},
): Promise<{ steps: PlannedStep[]; planner: PlannerName }> {
  const { system, user } = prompt(context, options.replan);
  let text = '';
  // A routed client says which provider answered; a restarted stream starts the reply over.
  let planner: PlannerName = chat.name === 'routed' ? 'openai' : chat.name;
  for await (const delta of chat.streamChat({
    system,
    user,
    maxTokens: PLAN_MAX_TOKENS,
    signal,
    maxRetries: 0,
    call: options.call,
    attemptTimeoutMs: options.attemptTimeoutMs,
    onRestart: () => (text = ''),
    onProvider: (name) => (planner = name),
  }))
    text += delta;
  const reply = replySchema.parse(jsonOf(text));
  const steps = reply.steps.map((each, index) => {
    const handle = each.agent ? /^A(\d+)$/i.exec(each.agent.trim()) : null;
    const agent = handle ? context.agents[Number(handle[1]) - 1] : undefined;
    if (each.agent && !agent) throw new Error(`step ${each.key}: unknown agent ${each.agent}`);
    return {
      key: each.key.trim(),
      kind: each.kind.trim().toUpperCase(),
      agentId: agent?.id ?? null,
      dependsOn: each.dependsOn.map((key) => key.trim()),
      input:
        each.kind.toUpperCase() === 'WRITE_SECTION'
          ? { title: each.title ?? each.key, description: each.description ?? '', order: index + 1 }
          : each.kind.toUpperCase() === 'RETRIEVE'
            ? { query: context.goal }
            : each.kind.toUpperCase() === 'SYNTHESIZE'
              ? { title: context.goal }
              : {},
      complexity: nearestComplexity(each.complexity),
      failurePolicy: null,
    };
  });
  return { steps, planner };
}
