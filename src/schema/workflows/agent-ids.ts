// Agents as the caller named them: services take row ids, so an id that is not an Agent's
// becomes a stand-in of its own (UNKNOWN_AGENT, counted one by one), and a refusal naming
// agents (extensions.agentIds) is turned back into the global ids the caller sent.
import { BadInputError } from '../../platform/errors.js';
import { parseGlobalId, toGlobalId } from '../ids.js';

/** The row id a sent Agent id stands for, or a stand-in no agent has. */
export const agentRowId = (globalId: string) =>
  parseGlobalId('Agent', globalId) ?? `not an agent id: ${globalId}`;

/** Runs a service; its UNKNOWN_AGENT names the agents among `sent` (global ids) it refused. */
export async function namingSentAgents<T>(
  sent: ReadonlyArray<string | null | undefined>,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const refused = error instanceof BadInputError ? error.details.agentIds : undefined;
    if (!(error instanceof BadInputError) || !Array.isArray(refused)) throw error;
    const bySent = new Map(sent.flatMap((id) => (id ? [[agentRowId(id), id] as const] : [])));
    const agentIds = refused.map((id: string) => bySent.get(id) ?? toGlobalId('Agent', id));
    throw new BadInputError(error.message, { ...error.details, agentIds }, error.argument);
  }
}
