// Who may see what: one rule per type that has an owner, as a Prisma `where`. Every way to
// reach such a type goes through its rule: its root field, node(id), lists, nested fields,
// subscriptions and downloads (tests/auth/visibility.test.ts walks the schema for them).
// Agents, taxonomies (with their nodes) and coverage history are shared by every key of a
// deployment; changing them needs the write scope.
import type { Prisma } from '../../generated/prisma/client.js';
import { NO_ROW_ID } from '../../platform/ids.js';
import type { Caller } from './caller.js';

type Who = Pick<Caller, 'userId' | 'scopes'>;

/** Tasks: their owner's; an admin sees every task. */
export const taskVisibleTo = (caller: Who): Prisma.TaskWhereInput =>
  caller.scopes.has('ADMIN') ? {} : { ownerId: caller.userId };

/** A task's webhook deliveries: as its task. */
export const webhookDeliveryVisibleTo = (caller: Who): Prisma.WebhookDeliveryWhereInput => ({
  task: taskVisibleTo(caller),
});

/** Topics: their owner's only (a report is private to whoever planned it, admins included). */
export const topicVisibleTo = (caller: Pick<Caller, 'userId'>) =>
  ({ ownerId: caller.userId }) satisfies Prisma.TopicWhereInput;

/** The same rule for a topic already loaded. */
export const isTopicVisibleTo = (
  topic: { ownerId: string | null },
  caller: Pick<Caller, 'userId'>,
) => topic.ownerId === caller.userId;

/** Artifacts: as their topic. */
export const artifactVisibleTo = (caller: Pick<Caller, 'userId'>): Prisma.ArtifactWhereInput => ({
  topic: topicVisibleTo(caller),
});

/** Templates: public ones and the caller's own. */
export const templateVisibleTo = (caller: Pick<Caller, 'userId'>) =>
  ({ OR: [{ isPublic: true }, { ownerId: caller.userId }] }) satisfies Prisma.TemplateWhereInput;

/** The same rule for a template already loaded. */
export const isTemplateVisibleTo = (
  template: { isPublic: boolean; ownerId: string | null },
  caller: Pick<Caller, 'userId'>,
) => template.isPublic || template.ownerId === caller.userId;

/** API keys: admins only (a key never sees its own or others' records otherwise). */
export const apiKeyVisibleTo = (caller: Who): Prisma.ApiKeyWhereInput =>
  caller.scopes.has('ADMIN') ? {} : { id: NO_ROW_ID };
