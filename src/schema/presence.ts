// Presence: who is looking at a topic, workflow, agent or template now. Being subscribed to
// `presence` is being present (docs/architecture.md#presence, docs/clients.md#presence).
import { pushFeed } from '../feeds/push-feed.js';
import { BadInputError, NotFoundError } from '../platform/errors.js';
import { publicId } from '../platform/public-ids.js';
import {
  PRESENCE_CHANNELS,
  requirePresenceChannel,
  type PresenceChannelKind,
} from '../services/presence/channels.js';
import type { PresenceChange, PresenceMember } from '../services/presence/members.js';
import { builder, type Context } from './builder.js';
import { parseGlobalId } from './ids.js';

const PresenceChannel = builder.enumType('PresenceChannel', {
  values: PRESENCE_CHANNELS,
  description: 'The kinds of object people can be present on.',
});

const TYPENAMES: Record<PresenceChannelKind, string> = {
  TOPIC: 'Topic',
  WORKFLOW: 'Workflow',
  AGENT: 'Agent',
  TEMPLATE: 'Template',
};

const PresenceMemberType = builder.objectRef<PresenceMember>('PresenceMember').implement({
  description: 'A user present on the object (one member however many streams they hold).',
  fields: (t) => ({
    user: t.string({
      description: 'Their user name (as Viewer.user and ApiKeyPayload.user).',
      resolve: (member) => member.user.name,
    }),
    since: t.field({
      type: 'DateTime',
      description: 'When they became present (their oldest stream still open).',
      resolve: (member) => member.since,
    }),
    lastSeenAt: t.field({
      type: 'DateTime',
      description: 'The last refresh of their presence (every 5 s by default).',
      resolve: (member) => member.lastSeenAt,
    }),
  }),
});

const PresenceEvent = builder.objectRef<PresenceChange>('PresenceEvent').implement({
  description:
    'The members now, and who joined and left since the previous event. The first event has ' +
    'every member in `joined` (and `left` empty), so a client that keeps its own list may ' +
    'select `joined` and `left` only.',
  fields: (t) => ({
    members: t.field({ type: [PresenceMemberType], resolve: (change) => change.members }),
    joined: t.stringList({ resolve: (change) => change.joined.map((user) => user.name) }),
    left: t.stringList({ resolve: (change) => change.left.map((user) => user.name) }),
  }),
});

/**
 * The channel of the object `id` names: BAD_USER_INPUT for an id of another type, NOT_FOUND
 * for an object the caller cannot read.
 */
function channelOf(kind: PresenceChannelKind, id: string, ctx: Context): Promise<string> {
  return requirePresenceChannel(kind, rowIdOf(kind, id), ctx.caller);
}

function rowIdOf(kind: PresenceChannelKind, id: string): string {
  const rowId = parseGlobalId(TYPENAMES[kind], id);
  if (!rowId) throw new BadInputError(`id: not an id of type ${TYPENAMES[kind]}`, {}, 'id');
  return rowId;
}

/**
 * Completes the stream (as agentUpdated does on a deletion) once its object is no longer the
 * caller's to read: deleted, or made private to another team. Checked again whenever a
 * committed change touches the object, as live queries learn it in every API process
 * (`liveQueryInvalidated`: `Agent:<global id>`; not a whole type's tag, which any other
 * object's change sends); the caller as the stream guard keeps it (a team left ends the
 * stream there). Returns how to stop following.
 */
function completeWhenUnreadable(
  kind: PresenceChannelKind,
  rowId: string,
  ctx: Context,
  complete: () => void,
): () => void {
  const typename = TYPENAMES[kind];
  const touched = `${typename}:${publicId(typename, rowId)}`;
  const changes = ctx.pubsub.subscribe('liveQueryInvalidated', 'all');
  void (async () => {
    for await (const { identifiers } of changes) {
      if (!identifiers.includes(touched)) continue;
      const readable = await requirePresenceChannel(kind, rowId, ctx.caller).then(
        () => true,
        (error: unknown) => !(error instanceof NotFoundError),
      );
      if (!readable) return complete();
    }
  })().catch(() => undefined);
  return () => void changes.return?.();
}

const presenceArgs = builder.args((t) => ({
  channel: t.field({ type: PresenceChannel, required: true }),
  id: t.id({
    required: true,
    description: 'The object: a Topic, Workflow, Agent or Template id, as `channel` says.',
  }),
}));

builder.queryField('presence', (t) =>
  t.field({
    type: [PresenceMemberType],
    description:
      'Who is present on the object now (subscribed to `presence`), earliest first. NOT_FOUND ' +
      'for an object the caller cannot read.',
    authScopes: { read: true },
    args: presenceArgs,
    resolve: async (_root, { channel, id }, ctx) =>
      ctx.presence.members(await channelOf(channel, id, ctx)),
  }),
);

builder.subscriptionField('presence', (t) =>
  t.field({
    type: PresenceEvent,
    description:
      'Being subscribed makes the caller present on the object (one member however many ' +
      'streams). The members now first (all of them in `joined`), then an event for every ' +
      'join and leave; a member whose API process stopped leaves within PRESENCE_TTL_MS ' +
      'plus PRESENCE_REFRESH_MS (20 s by default). Completes once the object is deleted or ' +
      'no longer readable by the caller. ' +
      'NOT_FOUND for an object the caller cannot read.',
    authScopes: { read: true },
    args: presenceArgs,
    subscribe: async (_root, { channel, id }, ctx) => {
      const rowId = rowIdOf(channel, id);
      const key = await requirePresenceChannel(channel, rowId, ctx.caller);
      const { userId, userName } = ctx.caller;
      // Present from when the stream starts (not when the resolver runs: a check of rights
      // runs it again without starting it) until it stops.
      return pushFeed<PresenceChange>((observer) => {
        const leave = ctx.presence.join(key, { userId, name: userName }, observer);
        let stopped = false;
        const stop = () => {
          if (stopped) return;
          stopped = true;
          unfollow();
          leave();
        };
        // A completed feed is not stopped by its consumer: it leaves first.
        const unfollow = completeWhenUnreadable(channel, rowId, ctx, () => {
          stop();
          observer.complete();
        });
        return stop;
      });
    },
    resolve: (change) => change,
  }),
);
