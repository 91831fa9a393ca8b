// The objects people can be present on, and who may see a channel: whoever may read its
// object, by the object's own rule (an object the caller may not read is NOT_FOUND, as a
// missing one is). An object another team may read too (a public template) is one channel for
// its own team (and the operator), and one for each other team whose members look at it: who
// is looking stays within a team, as everything else a user does.
import type { Caller } from '../auth/caller.js';
import { requireVisibleAgent } from '../agents/agents.js';
import { requireVisibleTemplate } from '../templates/templates.js';
import { requireTopicForCaller } from '../topics/topics.js';
import { requireWorkflowForCaller } from '../workflows/read.js';

export const PRESENCE_CHANNELS = ['TOPIC', 'WORKFLOW', 'AGENT', 'TEMPLATE'] as const;
export type PresenceChannelKind = (typeof PRESENCE_CHANNELS)[number];

type Who = Pick<Caller, 'isOperator' | 'roles' | 'teamId'>;

const READ_CHECKS: Record<
  PresenceChannelKind,
  (rowId: string, caller: Who) => Promise<{ id: string; teamId: string }>
> = {
  TOPIC: requireTopicForCaller,
  WORKFLOW: requireWorkflowForCaller,
  AGENT: requireVisibleAgent,
  TEMPLATE: requireVisibleTemplate,
};

/** The channel of an object the caller may read (its key in the presence store), else NOT_FOUND. */
export async function requirePresenceChannel(
  kind: PresenceChannelKind,
  rowId: string,
  caller: Who,
): Promise<string> {
  // The row's own id: the same object is one channel however its id was spelled.
  const { id, teamId } = await READ_CHECKS[kind](rowId, caller);
  if (caller.isOperator || caller.roles.has(teamId)) return `${kind}:${id}`;
  // Read from outside its team: the channel of the caller's key's team.
  return `${kind}:${id}:seen-from:${caller.teamId}`;
}
