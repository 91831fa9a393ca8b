// Who may see what: one rule per owned type, as a Prisma `where` (and, where a row is already
// loaded, the same rule as a check). Every way to reach such a type goes through its rule: its
// root field, node(id), lists, nested fields, subscriptions and downloads
// (tests/auth/visibility.test.ts walks the schema for them). A row belongs to one team; a
// caller sees what belongs to any team its user belongs to; the operator sees every team.
import type { Prisma } from '../../generated/prisma/client.js';
import type { Caller } from './caller.js';
import { administeredTeamIds, canRead, readableTeamIds } from './permissions.js';

type Who = Pick<Caller, 'isOperator' | 'roles'>;

/** The rule every team-owned row shares. */
function inCallerTeams(caller: Who): { teamId?: { in: string[] } } {
  const teams = readableTeamIds(caller);
  return teams ? { teamId: { in: teams } } : {};
}

/** The same rule for a row already loaded. */
export const isTeamRowVisibleTo = (row: { teamId: string }, caller: Who) =>
  canRead(caller, row.teamId);

/** Agents: their team's. */
export const agentVisibleTo = (caller: Who): Prisma.AgentWhereInput => inCallerTeams(caller);

/**
 * Coverage history entries of a visible agent: those that counted no other team's documents,
 * or only teams the caller is in now (docs/teams.md).
 */
export function coverageHistoryCountedFor(caller: Who): Prisma.CoverageHistoryWhereInput {
  const teams = readableTeamIds(caller);
  return teams ? { countedTeams: { every: { teamId: { in: teams } } } } : {};
}

/** Coverage history: as its agent, and what it counted. */
export const coverageHistoryVisibleTo = (caller: Who): Prisma.CoverageHistoryWhereInput =>
  caller.isOperator ? {} : { agent: agentVisibleTo(caller), ...coverageHistoryCountedFor(caller) };

/** Taxonomies: their team's. */
export const taxonomyVisibleTo = (caller: Who): Prisma.TaxonomyWhereInput => inCallerTeams(caller);

/**
 * Taxonomy nodes: as their taxonomy. A node reached through a visible agent (its scope, its
 * coverage) is part of that agent and shown with it, whatever the taxonomy's team.
 */
export const taxonomyNodeVisibleTo = (caller: Who): Prisma.TaxonomyNodeWhereInput =>
  caller.isOperator ? {} : { taxonomy: taxonomyVisibleTo(caller) };

/** Documents (and their chunks): as their taxonomy. */
export const documentVisibleTo = (caller: Who): Prisma.DocumentWhereInput =>
  caller.isOperator ? {} : { taxonomy: taxonomyVisibleTo(caller) };

/** Tasks: their team's. */
export const taskVisibleTo = (caller: Who): Prisma.TaskWhereInput => inCallerTeams(caller);

/**
 * Webhook deliveries: as their task (its own webhookUrl), or their message's team (a
 * workflow's own webhookUrl's too: the message is of the workflow's team).
 */
export const webhookDeliveryVisibleTo = (caller: Who): Prisma.WebhookDeliveryWhereInput =>
  caller.isOperator
    ? {}
    : { OR: [{ task: taskVisibleTo(caller) }, { message: inCallerTeams(caller) }] };

/** Webhook endpoints: their team's. */
export const webhookEndpointVisibleTo = (caller: Who): Prisma.WebhookEndpointWhereInput =>
  inCallerTeams(caller);

/** Plugin installations: their team's. */
export const pluginVisibleTo = (caller: Who): Prisma.PluginInstallationWhereInput =>
  inCallerTeams(caller);

/** Topics: their team's. */
export const topicVisibleTo = (caller: Who): Prisma.TopicWhereInput => inCallerTeams(caller);

/** Workflows (their steps and events through them): their team's. */
export const workflowVisibleTo = (caller: Who): Prisma.WorkflowWhereInput => inCallerTeams(caller);

/** Artifacts: as their topic. */
export const artifactVisibleTo = (caller: Who): Prisma.ArtifactWhereInput =>
  caller.isOperator ? {} : { topic: topicVisibleTo(caller) };

/** Templates: public ones, and the private ones of the caller's teams. */
export const templateVisibleTo = (caller: Who): Prisma.TemplateWhereInput =>
  caller.isOperator ? {} : { OR: [{ isPublic: true }, inCallerTeams(caller)] };

/** The same rule for a template already loaded. */
export const isTemplateVisibleTo = (template: { isPublic: boolean; teamId: string }, caller: Who) =>
  template.isPublic || canRead(caller, template.teamId);

/** API keys: the caller's own, and every key of the teams the caller administers. */
export function apiKeyVisibleTo(
  caller: Pick<Caller, 'isOperator' | 'roles' | 'keyScopes' | 'userId' | 'delegated' | 'teamId'>,
): Prisma.ApiKeyWhereInput {
  const administered = administeredTeamIds(caller);
  if (!administered) return {};
  // A delegated key sees its member's keys of its own team only.
  const own = caller.delegated
    ? { userId: caller.userId, teamId: caller.teamId }
    : { userId: caller.userId };
  return { OR: [own, { teamId: { in: administered } }] };
}

/** Teams: those the caller belongs to. */
export const teamVisibleTo = (caller: Who): Prisma.TeamWhereInput => {
  const teams = readableTeamIds(caller);
  return teams ? { id: { in: teams } } : {};
};

/** Invitations: to the teams the caller administers. */
export function teamInvitationVisibleTo(
  caller: Pick<Caller, 'isOperator' | 'roles' | 'keyScopes'>,
): Prisma.TeamInvitationWhereInput {
  const administered = administeredTeamIds(caller);
  return administered ? { teamId: { in: administered } } : {};
}
