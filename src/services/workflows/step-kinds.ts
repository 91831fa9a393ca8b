// What each step kind does, as the step's task runs it. RETRIEVE is queryAgent
// over the agent's scope (as a member of the workflow's team); REFRESH_COVERAGE records the
// agent's coverage (its history entry keyed by the task); WRITE_SECTION asks the configured
// report writer, grounded in its dependencies' passages; SYNTHESIZE exports the sections as one
// artifact. A result's `tokens` is what the step used (for actuals and cost).
import type { TeamRole } from '../../generated/prisma/enums.js';
import { db } from '../../platform/db.js';
import { BadInputError, NotFoundError } from '../../platform/errors.js';
import type { PubSub } from '../../platform/pubsub.js';
import { exportReport } from '../../reports/export/index.js';
import { languageOf } from '../../reports/planner/types.js';
import { WORKFLOW_LIMITS } from '../../reports/planner/workflow-types.js';
import { escapeMarkdown } from '../../reports/writers/local.js';
import type { MeteredUsage, ReportWriter, SectionSource } from '../../reports/writers/types.js';
import { computeAndRecordCoverage } from '../coverage/coverage.js';
import { queryAgent } from '../search/search.js';
import { ENV_ADMIN_USER } from '../auth/caller.js';
import { readableTeamsOfKey } from '../auth/key-readers.js';
import { agentVisibleTo } from '../auth/visibility.js';
import { anyWordQuery } from '../topics/knowledge.js';
import { saveFinishedReport } from '../topics/artifacts.js';
import type { StartedStep } from './sql/mark-running.js';
import {
  PluginStepRefused,
  runPluginAgentStep,
  runPluginToolStep,
  type PluginStepDeps,
} from '../plugins/steps.js';

export interface StepRun {
  step: StartedStep;
  taskId: string;
  signal: AbortSignal;
  pubsub: PubSub;
  writer: ReportWriter;
  /** What plugin steps need (docs/plugins.md); unset: they cannot run here. */
  plugins?: PluginStepDeps;
  progress(percent: number, message: string): void;
}

/** A failure that running again cannot fix (the agent is gone). */
export class StepCannotRun extends Error {
  override name = 'StepCannotRun';
}

interface DependencyResult {
  key: string;
  kind: string;
  status: string;
  result: any;
  error: string | null;
  input: any;
}

function dependencies(step: StartedStep): Promise<DependencyResult[]> {
  if (step.dependsOn.length === 0) return Promise.resolve([]);
  return db().workflowStep.findMany({
    where: { workflowId: step.workflowId, key: { in: step.dependsOn } },
    select: { key: true, kind: true, status: true, result: true, error: true, input: true },
    orderBy: { position: 'asc' },
  });
}

/**
 * What a step may read now: what the key that started (or retried) the workflow may read
 * (auth/key-readers.ts: its member's teams, its own team only for a delegated key, nothing once
 * it is revoked or its member left). Steps run later, as that key would read then, not with
 * everything the workflow's owner can read (a teammate's start, or a delegated key, reached the
 * owner's other teams). A workflow started before keys were recorded reads as its owner did.
 */
async function readerOf(step: StartedStep) {
  if (step.apiKeyId !== null) {
    const teams = await readableTeamsOfKey(step.apiKeyId);
    if (teams === null) return { isOperator: true, roles: new Map<string, TeamRole>() };
    return { isOperator: false, roles: new Map(teams.map((team) => [team, 'MEMBER' as TeamRole])) };
  }
  // No key: the operator's ADMIN_API_KEY (every team), or a workflow from before keys were kept.
  const owner = await db().user.findUnique({ where: { id: step.ownerId }, select: { name: true } });
  if (owner?.name === ENV_ADMIN_USER)
    return { isOperator: true, roles: new Map<string, TeamRole>() };
  const memberships = await db().teamMember.findMany({
    where: { userId: step.ownerId },
    select: { teamId: true, role: true },
  });
  const roles = new Map<string, TeamRole>(memberships.map((m) => [m.teamId, m.role]));
  if (!roles.has(step.teamId)) roles.set(step.teamId, 'MEMBER');
  return { isOperator: false, roles };
}

// Plans are checked (workflow-check.ts), but a step stored before a check existed, or a result
// of another shape, must not reach a string method as a number: read each field by its type.
const input = (step: StartedStep): Record<string, unknown> =>
  typeof step.input === 'object' && step.input !== null && !Array.isArray(step.input)
    ? (step.input as Record<string, unknown>)
    : {};
const textOr = (value: unknown, fallback: string) =>
  typeof value === 'string' && value.trim() !== '' ? value : fallback;
const countOr = (value: unknown, fallback: number) =>
  Number.isInteger(value) && (value as number) >= 1 ? (value as number) : fallback;
const approxTokens = (text: string) => Math.ceil(text.length / 4);

async function retrieve({ step }: StepRun) {
  if (!step.agentId) throw new StepCannotRun('the agent was deleted');
  const query = anyWordQuery(textOr(input(step).query, step.goal));
  if (!query) return { hits: [], totalResults: 0, tokens: 0 };
  const who = await readerOf(step);
  try {
    const found = await queryAgent(step.agentId, query, countOr(input(step).topK, 8), who);
    const hits = found.hits.map((hit) => ({
      documentId: hit.documentId,
      title: hit.title,
      content: hit.content.slice(0, 1_000),
      score: hit.score,
    }));
    return { hits, totalResults: found.totalResults, tokens: 0 };
  } catch (error) {
    if (error instanceof NotFoundError)
      throw new StepCannotRun(
        'the agent was deleted, left the team, or is no longer readable by the key that started the workflow',
      );
    if (error instanceof BadInputError) return { hits: [], totalResults: 0, tokens: 0 };
    throw error;
  }
}

async function refreshCoverage({ step, taskId, pubsub }: StepRun) {
  const agent =
    step.agentId &&
    (await db().agent.findFirst({
      where: { AND: [{ id: step.agentId }, agentVisibleTo(await readerOf(step))] },
      select: { id: true },
    }));
  if (!agent)
    throw new StepCannotRun(
      'the agent was deleted, left the team, or is no longer readable by the key that started the workflow',
    );
  const report = await computeAndRecordCoverage(agent.id, { taskId, pubsub });
  return {
    overallCoverage: report.overallCoverage,
    totalDocuments: report.totalDocuments,
    totalChunks: report.totalChunks,
    gaps: report.gaps.length,
    tokens: 0,
  };
}

async function writeSection(run: StepRun) {
  const { step, writer, signal } = run;
  const deps = await dependencies(step);
  const sources: SectionSource[] = deps
    .flatMap((dep) =>
      dep.kind === 'RETRIEVE' && dep.status === 'SUCCEEDED' ? (dep.result?.hits ?? []) : [],
    )
    .slice(0, 8)
    .map((hit: SectionSource) => ({
      documentId: hit.documentId,
      title: hit.title,
      content: hit.content,
    }));
  const failedInputs = deps.filter((dep) => dep.status !== 'SUCCEEDED').map((dep) => dep.key);
  const fields = input(step);
  const title = textOr(fields.title, step.key);
  const description = textOr(fields.description, '');
  const order = countOr(fields.order, 1);
  const total = countOr(fields.total, order);
  run.progress(10, `writing ${title}`);
  let markdown = '';
  // What the section's LLM attempts were metered at (none: the local writer, no tokens).
  const metered = { calls: 0, tokens: 0, costUsd: 0 };
  const request = {
    topic: step.goal,
    language: languageOf(step.goal),
    plan: `# ${step.goal}\n`,
    section: { title, description, order },
    total,
    sources,
    // Whom the section is written for (a routed writer's routes, budgets and metering).
    call: {
      teamId: step.teamId,
      apiKeyId: step.apiKeyId,
      taskId: run.taskId,
      workflowId: step.workflowId,
    },
    // A routed writer's stream that broke after text starts the section over elsewhere.
    onRestart: () => (markdown = ''),
    onMetered: (usage: MeteredUsage) => {
      metered.calls += 1;
      metered.tokens += usage.inputTokens + usage.outputTokens;
      metered.costUsd += usage.costUsd;
    },
  };
  for await (const piece of writer.writeSection(request, signal)) {
    markdown += piece;
    run.progress(Math.min(90, 10 + markdown.length / 50), `writing ${title}`);
  }
  return {
    title,
    order,
    markdown: markdown.trim(),
    sources: sources.length,
    failedInputs,
    ...(metered.calls
      ? { tokens: metered.tokens, costUsd: metered.costUsd }
      : { tokens: approxTokens(markdown) }),
  };
}

async function synthesize(run: StepRun) {
  const { step } = run;
  const sections = (await dependencies(step)).filter((dep) => dep.kind === 'WRITE_SECTION');
  const written = sections.filter((dep) => dep.status === 'SUCCEEDED');
  const failedInputs = sections.filter((dep) => dep.status !== 'SUCCEEDED').map((dep) => dep.key);
  const parts = [`# ${escapeMarkdown(step.goal)}`];
  const titleOf = (dep: DependencyResult) => textOr(dep.result?.title, dep.key);
  written.forEach((dep, index) =>
    parts.push(
      `## ${index + 1}. ${escapeMarkdown(titleOf(dep))}`,
      textOr(dep.result?.markdown, ''),
    ),
  );
  const markdown = `${parts.join('\n\n')}\n`;
  run.progress(50, 'exporting');
  const files = await exportReport(markdown, { title: step.goal, createdAt: new Date() });
  run.signal.throwIfAborted();
  const outline = written.map((dep, index) => ({
    title: titleOf(dep),
    description: textOr(dep.input?.description, ''),
    order: index + 1,
  }));
  // Keyed by the step: a step that runs again replaces its report.
  await saveFinishedReport({
    id: step.id,
    teamId: step.teamId,
    ownerId: step.ownerId,
    topic: step.goal,
    sections: outline,
    markdown,
    files,
  });
  return {
    artifactId: step.id,
    sections: written.length,
    failedInputs,
    files: files.map((file) => ({ format: file.format, bytes: file.data.byteLength })),
    tokens: 0,
  };
}

async function noop(run: StepRun) {
  const waitMs = Math.min(Number(input(run.step).waitMs ?? 0) || 0, WORKFLOW_LIMITS.noopWaitMs);
  if (waitMs > 0) {
    const { signal } = run;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, waitMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
  return { tokens: 0 };
}

/** A plugin step: its refusals are the step's (not retried). */
async function pluginStep(run: StepRun, kind: 'PLUGIN_TOOL' | 'PLUGIN_AGENT') {
  if (!run.plugins) throw new StepCannotRun('plugin steps are not configured on this worker');
  // As the key that started the workflow may now: a revoked key, or a member who left, runs
  // no more of the team's plugins.
  const who = await readerOf(run.step);
  if (!who.isOperator && !who.roles.has(run.step.teamId))
    throw new StepCannotRun("the workflow's key may no longer use its team's plugins");
  run.progress(10, `running ${kind === 'PLUGIN_TOOL' ? 'the tool' : 'the agent'}`);
  try {
    return kind === 'PLUGIN_TOOL'
      ? await runPluginToolStep(run.step, run.signal, run.plugins)
      : await runPluginAgentStep(run.step, { taskId: run.taskId, signal: run.signal }, run.plugins);
  } catch (error) {
    if (error instanceof PluginStepRefused) throw new StepCannotRun(error.message);
    throw error;
  }
}

const KINDS: Record<string, (run: StepRun) => Promise<Record<string, unknown>>> = {
  RETRIEVE: retrieve,
  REFRESH_COVERAGE: refreshCoverage,
  WRITE_SECTION: writeSection,
  SYNTHESIZE: synthesize,
  NOOP: noop,
  PLUGIN_TOOL: (run) => pluginStep(run, 'PLUGIN_TOOL'),
  PLUGIN_AGENT: (run) => pluginStep(run, 'PLUGIN_AGENT'),
};

export function runStepKind(run: StepRun): Promise<Record<string, unknown>> {
  const kind = KINDS[run.step.kind];
  if (!kind) throw new StepCannotRun(`unknown step kind ${run.step.kind}`);
  return kind(run);
}
