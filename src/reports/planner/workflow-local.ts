// The local workflow planner: deterministic and offline (the same context gives the same
// plan). A retrieval per agent; a coverage refresh where an agent's coverage is missing or
// older than a day; a section per outline heading, depending on the retrievals behind it
// (the agents its words name, else all); one synthesis over the sections and refreshes.
import { guideSections, terms } from './local.js';
import { NEEDS_AGENT } from './workflow-check.js';
import type { Language } from './types.js';
import type {
  OutlineHeading,
  PlannedStep,
  ReplanContext,
  WorkflowAgent,
  WorkflowPlanContext,
} from './workflow-types.js';
import { WORKFLOW_LIMITS } from './workflow-types.js';

const DAY_MS = 86_400_000;

const DEFAULT_OUTLINE: Record<
  Language,
  {
    overview: OutlineHeading;
    agent: (name: string) => OutlineHeading;
    compare: OutlineHeading;
    close: OutlineHeading;
  }
> = {
  en: {
    overview: { title: 'Overview', description: 'The question, and what the agents were asked.' },
    agent: (name) => ({ title: `What ${name} knows`, description: `The findings of ${name}.` }),
    compare: { title: 'Comparison', description: 'Where the agents agree and differ.' },
    close: { title: 'Recommendations', description: 'What to do next, and open questions.' },
  },
  ko: {
    overview: { title: '개요', description: '질문과 에이전트에게 물은 내용.' },
    agent: (name) => ({ title: `${name}의 지식`, description: `${name}이 찾은 내용.` }),
    compare: { title: '비교', description: '에이전트들이 일치하고 다른 점.' },
    close: { title: '제언', description: '다음에 할 일과 남은 질문.' },
  },
};

function outlineOf(context: WorkflowPlanContext): OutlineHeading[] {
  const fromGuide = guideSections(context.guide, context.goal).map((section) => ({
    title: section.title,
    description: section.description,
  }));
  if (fromGuide.length) return fromGuide.slice(0, WORKFLOW_LIMITS.outline);
  const text = DEFAULT_OUTLINE[context.language];
  const perAgent = context.agents.map((agent) => text.agent(agent.name));
  return [
    text.overview,
    ...perAgent,
    ...(context.agents.length > 1 ? [text.compare] : []),
    text.close,
  ];
}

/** A heading within a section's bounds (a long agent name or guide heading is cut, marked …). */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

const isStale = (agent: WorkflowAgent, now: Date) =>
  !agent.lastCoverageUpdate || now.getTime() - agent.lastCoverageUpdate.getTime() > DAY_MS;

/**
 * Words that name nothing (an agent called "History of Art" is not behind every heading with
 * "of" in it): English and Korean function words, as the planner's headings use them.
 */
const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be by for from how in into is it its of on or the to what when where which ' +
    'who why with about after before between over under than that this these those our your their ' +
    '및 그리고 또는 대한 관한 위한 통한 대해 관해 위해 무엇 어떻게 어떤'
  ).split(' '),
);

/** The agents a heading names (by words of their name), else every agent. */
function agentsBehind(heading: OutlineHeading, agents: readonly WorkflowAgent[]): number[] {
  const headingTerms = terms(`${heading.title} ${heading.description}`);
  const named = agents.flatMap((agent, index) =>
    [...terms(agent.name)].some((term) => !FUNCTION_WORDS.has(term) && headingTerms.has(term))
      ? [index]
      : [],
  );
  return named.length ? named : agents.map((_, index) => index);
}

/** More sources to weigh, more work: 0.7 for one, 1.0 for two, 1.5 beyond. */
const complexityOfSources = (sources: number) => (sources <= 1 ? 0.7 : sources === 2 ? 1.0 : 1.5);

const step = (fields: Partial<PlannedStep> & Pick<PlannedStep, 'key' | 'kind'>): PlannedStep => ({
  agentId: null,
  dependsOn: [],
  input: {},
  complexity: 1,
  failurePolicy: null,
  ...fields,
});

export function planWorkflowLocally(context: WorkflowPlanContext): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const refreshes: string[] = [];
  context.agents.forEach((agent, index) => {
    const n = index + 1;
    if (isStale(agent, context.now)) {
      refreshes.push(`refresh-${n}`);
      steps.push(step({ key: `refresh-${n}`, kind: 'REFRESH_COVERAGE', agentId: agent.id }));
    }
    steps.push(
      step({
        key: `retrieve-${n}`,
        kind: 'RETRIEVE',
        agentId: agent.id,
        input: { query: context.goal },
        complexity: 0.7,
      }),
    );
  });
  const sections = outlineOf(context).map((heading, index) => {
    const behind = agentsBehind(heading, context.agents);
    return step({
      key: `section-${index + 1}`,
      kind: 'WRITE_SECTION',
      dependsOn: behind.map((agentIndex) => `retrieve-${agentIndex + 1}`),
      input: {
        title: clip(heading.title, WORKFLOW_LIMITS.title),
        description: clip(heading.description, WORKFLOW_LIMITS.description),
        order: index + 1,
      },
      complexity: complexityOfSources(behind.length),
    });
  });
  steps.push(...sections);
  steps.push(
    step({
      key: 'synthesize',
      kind: 'SYNTHESIZE',
      dependsOn: [...sections.map((section) => section.key), ...refreshes],
      input: { title: context.goal },
      complexity: sections.length > 6 ? 1.5 : 1.0,
    }),
  );
  return steps;
}

/**
 * The local replan: the steps not yet started, except those that can no longer run (their
 * agent was deleted), with their dependencies on those dropped steps removed. A dependency on
 * a step that ended failed or skipped stays: it is over, and the dependent runs without it and
 * names it among its failed inputs (a section is written from the sources that did arrive).
 * Deterministic.
 */
export function replanWorkflowLocally(context: ReplanContext): PlannedStep[] {
  const unstarted = context.steps.filter((each) => !each.started);
  const cannotRun = (step: PlannedStep) => step.agentId === null && NEEDS_AGENT.has(step.kind);
  const gone = new Set(unstarted.filter((each) => cannotRun(each.step)).map((each) => each.key));
  return unstarted
    .filter((each) => !cannotRun(each.step))
    .map((each) => ({
      ...each.step,
      dependsOn: each.step.dependsOn.filter((key) => !gone.has(key)),
    }));
}
