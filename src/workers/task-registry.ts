// The task types a worker runs, by name: the list src/workers/tasks gives the engine.
import type { TaskDefinition } from '../queue/task-definition.js';

/** The task types a worker runs, by name. */
export type TaskRegistry = ReadonlyMap<string, TaskDefinition>;

export function taskRegistry(definitions: readonly TaskDefinition[]): TaskRegistry {
  const registry = new Map<string, TaskDefinition>();
  for (const definition of definitions) {
    if (registry.has(definition.spec.name))
      throw new Error(`task type ${definition.spec.name} is defined twice`);
    registry.set(definition.spec.name, definition);
  }
  return registry;
}
