// The task types this service runs, by name.
import type { TaskDefinition } from '../task-definition.js';
import { coverageRefresh } from './coverage-refresh.js';
import { reportGeneration } from './report-generation.js';
import { webhookDelivery } from './webhook-delivery.js';

export const taskDefinitions: ReadonlyMap<string, TaskDefinition<any>> = new Map(
  [coverageRefresh, reportGeneration, webhookDelivery].map((definition) => [definition.type, definition as TaskDefinition<any>]),
);

export function taskDefinition(type: string): TaskDefinition<any> {
  const definition = taskDefinitions.get(type);
  if (!definition) throw new Error(`unknown task type ${type}`);
  return definition;
}
