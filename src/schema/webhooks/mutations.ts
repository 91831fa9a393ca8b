// Registering, changing, rotating and deleting a team's webhook endpoints, listing them, and
// redelivering a message. The rules are the services' (src/services/webhooks).
import { db } from '../../platform/db.js';
import type { Context } from '../builder.js';
import { builder } from '../builder.js';
import { optionalRowId, rowIdOrNone } from '../ids.js';
import { Task } from '../tasks.js';
import { redeliverWebhook } from '../../services/webhooks/deliveries.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  readableEndpoint,
  rotateWebhookEndpointSecret,
  teamWebhookEndpoints,
  updateWebhookEndpoint,
} from '../../services/webhooks/endpoints.js';
import { WebhookEndpoint } from './types.js';

const endpointDeps = (ctx: Context) => ({ keyring: ctx.llm.keyring, webhooks: ctx.webhooks });
const EVENT_TYPES_HELP =
  'Any of task.completed, task.failed, task.dead, report.completed, report.failed, ' +
  'workflow.completed, workflow.failed, template.version_created, budget.threshold; ' +
  'another is BAD_USER_INPUT naming eventTypes.';

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    teamId: t.id({ description: "Unset: the API key's team." }),
    url: t.string({
      required: true,
      description:
        'Outside development https to a public address (else BAD_USER_INPUT naming url).',
    }),
    eventTypes: t.stringList({ required: true, description: EVENT_TYPES_HELP }),
    description: t.string({ description: 'At most 500 characters.' }),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string(),
    eventTypes: t.stringList({ description: EVENT_TYPES_HELP }),
    enabled: t.boolean({ description: 'A disabled endpoint is sent nothing.' }),
    description: t.string(),
  }),
});

const WebhookEndpointSecretPayload = builder
  .objectRef<{ endpointId: string; secret: string }>('WebhookEndpointSecretPayload')
  .implement({
    fields: (t) => ({
      endpoint: t.prismaField({
        type: WebhookEndpoint,
        resolve: (query, payload) =>
          db().webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: payload.endpointId } }),
      }),
      secret: t.exposeString('secret', {
        description:
          'whsec_…: shown once, stored sealed. Verify with any Standard Webhooks library.',
      }),
    }),
  });

const RedeliverWebhookPayload = builder
  .objectRef<{ webhookId: string; taskId: string }>('RedeliverWebhookPayload')
  .implement({
    fields: (t) => ({
      webhookId: t.exposeString('webhookId', { description: 'The webhook-id it is sent under.' }),
      task: t.prismaField({
        type: Task,
        description: 'The webhook_delivery task that sends it.',
        resolve: (query, payload) =>
          db().task.findUniqueOrThrow({ ...query, where: { id: payload.taskId } }),
      }),
    }),
  });

builder.queryField('webhookEndpoints', (t) =>
  t.prismaField({
    type: [WebhookEndpoint],
    description: "A team's endpoints (unset: the key's team), newest first.",
    authScopes: { read: true },
    args: { teamId: t.arg.id() },
    resolve: (query, _root, args, ctx) =>
      teamWebhookEndpoints(
        optionalRowId('Team', args.teamId) ?? ctx.caller.teamId,
        ctx.caller,
        query,
      ),
  }),
);

builder.queryField('webhookEndpoint', (t) =>
  t.prismaField({
    type: WebhookEndpoint,
    description: "One endpoint; another team's is NOT_FOUND.",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const endpoint = await readableEndpoint(rowIdOrNone('WebhookEndpoint', id), ctx.caller);
      return db().webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: endpoint.id } });
    },
  }),
);

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointSecretPayload,
    description:
      "A team's receiver of the event types it names, with its signing secret (shown once). " +
      'Needs the ADMIN or OWNER role of the team and an ADMIN key.',
    authScopes: { read: true },
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { endpoint, secret } = await createWebhookEndpoint(
        { ...input, teamId: optionalRowId('Team', input.teamId) },
        ctx.caller,
        endpointDeps(ctx),
      );
      return { endpointId: endpoint.id, secret };
    },
  }),
);

builder.mutationField('updateWebhookEndpoint', (t) =>
  t.prismaField({
    type: WebhookEndpoint,
    description: 'Changes what is given; the URL is checked as at creation.',
    authScopes: { read: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateWebhookEndpointInput, required: true }),
    },
    resolve: async (query, _root, { id, input }, ctx) => {
      const endpointId = rowIdOrNone('WebhookEndpoint', id);
      await updateWebhookEndpoint(endpointId, input, ctx.caller, endpointDeps(ctx));
      return db().webhookEndpoint.findUniqueOrThrow({ ...query, where: { id: endpointId } });
    },
  }),
);

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.id({
    description: 'Deletes the endpoint with its messages and deliveries; its id.',
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteWebhookEndpoint(rowIdOrNone('WebhookEndpoint', id), ctx.caller);
      return id;
    },
  }),
);

builder.mutationField('rotateWebhookEndpointSecret', (t) =>
  t.field({
    type: WebhookEndpointSecretPayload,
    description:
      'A new secret (shown once). For overlapSeconds (default 86400, at most 604800; 0: none) ' +
      'the replaced secret signs too: each message carries both signatures.',
    authScopes: { read: true },
    args: {
      id: t.arg.id({ required: true }),
      overlapSeconds: t.arg.int({ defaultValue: 86_400 }),
    },
    resolve: async (_root, { id, overlapSeconds }, ctx) => {
      const endpointId = rowIdOrNone('WebhookEndpoint', id);
      const secret = await rotateWebhookEndpointSecret(
        endpointId,
        overlapSeconds ?? 86_400,
        ctx.caller,
        endpointDeps(ctx),
      );
      return { endpointId, secret };
    },
  }),
);

builder.mutationField('redeliverWebhook', (t) =>
  t.field({
    type: RedeliverWebhookPayload,
    description:
      "Sends a delivery's message again now under the same webhook-id, as one attempt (not " +
      'retried), numbered on from its last. While a delivery of the message is still open (a ' +
      "retry waiting) that one is sent now and returned instead. Another team's delivery is " +
      'NOT_FOUND.',
    authScopes: { read: true },
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: (_root, { deliveryId }, ctx) =>
      redeliverWebhook(rowIdOrNone('WebhookDelivery', deliveryId), ctx.caller, {
        pubsub: ctx.pubsub,
        webhooks: ctx.webhooks,
        metrics: ctx.metrics.queue,
      }),
  }),
);
