// The chaos run's workflows: 40 steps each, in chains, a diamond, a fan-out and its fan-in,
// coverage refreshes (a visible effect: history entries, keyed by the step's task), sections
// and one synthesis (a visible effect: the artifact, keyed by the step). NOOP steps wait a
// few hundred milliseconds so that a killed worker is caught mid-step.
import type { PlannedStep } from '../../src/reports/planner/workflow-types.js';

const step = (
  key: string,
  kind: string,
  dependsOn: string[],
  fields: Partial<PlannedStep> = {},
): PlannedStep => ({
  key,
  kind,
  agentId: null,
  dependsOn,
  input: {},
  complexity: 1,
  failurePolicy: null,
  ...fields,
});

export function chaosPlan(agentId: string, n: number): PlannedStep[] {
  const wait = (i: number) => ({ input: { waitMs: 100 + ((n * 31 + i * 17) % 300) } });
  const steps: PlannedStep[] = [];
  for (let i = 0; i < 10; i++)
    steps.push(step(`chain-${i}`, 'NOOP', i ? [`chain-${i - 1}`] : [], wait(i)));
  steps.push(
    step('diamond-top', 'NOOP', [], wait(10)),
    step('diamond-left', 'NOOP', ['diamond-top'], wait(11)),
    step('diamond-right', 'NOOP', ['diamond-top'], wait(12)),
    step('diamond-bottom', 'NOOP', ['diamond-left', 'diamond-right'], wait(13)),
    step('fan-root', 'NOOP', [], wait(14)),
  );
  for (let i = 0; i < 12; i++) steps.push(step(`fan-${i}`, 'NOOP', ['fan-root'], wait(15 + i)));
  steps.push(
    step(
      'fan-join',
      'NOOP',
      Array.from({ length: 12 }, (_, i) => `fan-${i}`),
      wait(27),
    ),
  );
  steps.push(
    step('refresh-a', 'REFRESH_COVERAGE', ['chain-9'], { agentId }),
    step('refresh-b', 'REFRESH_COVERAGE', ['diamond-bottom'], { agentId }),
  );
  for (let i = 0; i < 6; i++)
    steps.push(step(`extra-${i}`, 'NOOP', [i % 2 ? 'chain-4' : 'fan-3'], wait(28 + i)));
  const sections = ['chain-9', 'diamond-bottom', 'fan-join'].map((dep, i) =>
    step(`section-${i + 1}`, 'WRITE_SECTION', [dep], {
      input: { title: `Part ${i + 1}`, description: 'chaos', order: i + 1 },
    }),
  );
  steps.push(...sections);
  steps.push(
    step('synthesize', 'SYNTHESIZE', [
      ...sections.map((s) => s.key),
      'refresh-a',
      'refresh-b',
      'extra-5',
    ]),
  );
  return steps;
}
