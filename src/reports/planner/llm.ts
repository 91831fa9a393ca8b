// The LLM planner: the same context as the local planner, asked of a chat model, its
// Markdown read back with the same heading rules (so the plan and its sections agree).
import type { ChatClient, LlmCallScope } from '../writers/types.js';
import { sectionsFromPlan } from './markdown.js';
import type { Plan, PlanContext, PlannerName } from './types.js';

const PLAN_MAX_TOKENS = 800;

export function planPrompt(context: PlanContext): { system: string; user: string } {
  const language = context.language === 'ko' ? 'Korean' : 'English';
  const system = [
    'You plan reports. Reply with Markdown only:',
    'a first line `# <plan title>`, then one `## <n>. <section title>` heading per section (3 to 8 sections),',
    'each followed by one short paragraph saying what the section covers.',
    "When a guide is given, follow its structure and instructions. Use the agent's knowledge " +
      'areas and documents where they fit.',
    `Write in ${language}.`,
  ].join('\n');
  const lines = [`Topic: ${context.topic}`];
  if (context.template)
    lines.push(
      '',
      `Guide (template "${context.template.name}"):`,
      context.template.promptSystem?.trim() || '(none)',
    );
  if (context.agent) {
    if (context.agent.focus.length)
      lines.push(
        '',
        `Knowledge areas: ${context.agent.focus.map((node) => node.path.join(' > ')).join('; ')}`,
      );
    if (context.agent.hits.length) {
      lines.push('', 'Relevant documents:');
      for (const hit of context.agent.hits.slice(0, 5))
        lines.push(`- ${hit.title}: ${hit.content.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
  }
  return { system, user: lines.join('\n') };
}

export async function planWithLlm(
  chat: ChatClient,
  context: PlanContext,
  signal: AbortSignal,
  call?: LlmCallScope,
  attemptTimeoutMs?: number,
): Promise<Plan & { planner: PlannerName }> {
  const { system, user } = planPrompt(context);
  let text = '';
  let planner: PlannerName = chat.name === 'routed' ? 'openai' : chat.name;
  // No SDK retries: the plan has a budget, and the local planner is the fallback.
  for await (const delta of chat.streamChat({
    system,
    user,
    maxTokens: PLAN_MAX_TOKENS,
    signal,
    maxRetries: 0,
    call,
    attemptTimeoutMs,
    onRestart: () => (text = ''),
    onProvider: (name) => (planner = name),
  }))
    text += delta;
  const plan = `${text.trim()}\n`;
  const sections = sectionsFromPlan(plan);
  if (sections.length === 0) throw new Error(`${chat.name} planner: the reply has no sections`);
  return { plan, sections, planner };
}
