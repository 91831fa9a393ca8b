// A team's webhook endpoints and their deliveries (one row per attempt, newest first).
import { checkPrismaPage, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../platform/pagination.js';
import { rowIdWhere } from '../../platform/ids.js';
import { readDb } from '../../platform/replicas.js';
import { webhookEndpointVisibleTo } from '../../services/auth/visibility.js';
import { builder } from '../builder.js';
import { toGlobalId } from '../ids.js';

export const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  values: {
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: {
      description: 'Another answer, none (a timeout, a refused connection) or a refused target.',
    },
  } as const,
});

// Also Task.webhookDeliveries (t.relation finds it by its Prisma model).
builder.prismaObject('WebhookDelivery', {
  description: 'One attempt to deliver a webhook message.',
  fields: (t) => ({
    id: t.id({
      description: 'The id redeliverWebhook takes.',
      resolve: (delivery) => toGlobalId('WebhookDelivery', delivery.id),
    }),
    webhookId: t.string({
      nullable: true,
      description: 'The webhook-id header: the same on every attempt and redelivery of a message.',
      resolve: (delivery) => (delivery.messageId ? `msg_${delivery.messageId}` : null),
    }),
    attempt: t.exposeInt('attempt'),
    status: t.field({
      type: WebhookDeliveryStatus,
      resolve: (delivery) => (delivery.succeeded ? 'SUCCEEDED' : 'FAILED'),
    }),
    statusCode: t.exposeInt('statusCode', {
      nullable: true,
      description: "The receiver's HTTP status; null when none came back.",
    }),
    latencyMs: t.exposeInt('durationMs', {
      nullable: true,
      description: 'From the request to the end of the answer.',
    }),
    url: t.exposeString('url'),
    error: t.exposeString('error', { nullable: true }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime' }),
    succeeded: t.exposeBoolean('succeeded'),
  }),
});

export const WebhookEndpoint = builder.prismaNode('WebhookEndpoint', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [webhookEndpointVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    url: t.exposeString('url'),
    eventTypes: t.exposeStringList('eventTypes', {
      description:
        'task.completed, task.failed, task.dead, report.completed, report.failed, ' +
        'workflow.completed, workflow.failed, template.version_created, budget.threshold.',
    }),
    enabled: t.exposeBoolean('enabled'),
    description: t.exposeString('description'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    secretOverlapEndsAt: t.expose('previousExpiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Until then the secret a rotation replaced signs too (its overlap).',
    }),
    // Loaded by the field itself, not joined into the endpoint's query: Pothos decodes a joined
    // connection's cursor while it loads the parent, before checkArguments could name it.
    deliveries: t.prismaConnection(
      {
        type: 'WebhookDelivery',
        cursor: 'id',
        defaultSize: DEFAULT_PAGE_SIZE,
        maxSize: MAX_PAGE_SIZE,
        description: "Every attempt at this endpoint's messages, newest first.",
        extensions: { checkArguments: checkPrismaPage },
        resolve: (query, endpoint) =>
          readDb().webhookDelivery.findMany({
            ...query,
            where: { endpointId: endpoint.id },
            orderBy: [{ deliveredAt: 'desc' }, { id: 'desc' }],
          }),
      },
      { name: 'WebhookEndpointDeliveriesConnection' },
      { name: 'WebhookEndpointDeliveriesConnectionEdge' },
    ),
  }),
});
