// A user as other people see them: their id and name (what keys, members and ratings name).
import type { PresenceUser } from '../services/presence/store.js';
import { builder } from './builder.js';
import { toGlobalId } from './ids.js';

export const User = builder.objectRef<PresenceUser>('User').implement({
  description: 'A person using the API (the user behind keys).',
  fields: (t) => ({
    id: t.id({ resolve: (user) => toGlobalId('User', user.userId) }),
    name: t.exposeString('name', { description: 'Unique (as ApiKeyPayload.user).' }),
  }),
});
