// What each domain change drops from the response cache: the answers holding a row (its type
// and global id), any row of a type, or every answer of a root query field (lists and lookups
// a new, deleted or moved row changes). The services announce facts (src/platform/changes.ts);
// only here do they meet the schema's names.
import { listenToChanges, type DomainChange } from '../../platform/changes.js';
import { publicId } from '../../platform/public-ids.js';
import type { ResponseStore } from '../../platform/response-cache/store.js';
import { entityTag, rootFieldTag } from './tags.js';

const row = (type: string, rowId: string) => entityTag(type, publicId(type, rowId));

const TEMPLATE_LISTS = rootFieldTag('templates');

/** The tags a change drops. */
export function cacheTagsOf(change: DomainChange): string[] {
  switch (change.kind) {
    case 'agent.created':
      return [rootFieldTag('agents')];
    case 'agents.changed':
      // The lists (names filter them) and search answers (retrievalConfig) too.
      return [
        ...change.agentIds.map((id) => row('Agent', id)),
        rootFieldTag('agents'),
        rootFieldTag('queryAgent'),
      ];
    case 'coverage.recorded':
      return [row('Agent', change.agentId)];
    case 'coverage.history-expired':
      return ['Agent'];
    case 'corpus.changed':
      return [rootFieldTag('queryAgent')];
    case 'taxonomy.created':
      return [rootFieldTag('taxonomy')];
    case 'team.changed':
      return [change.teamId ? row('Team', change.teamId) : 'Team'];
    case 'topic.created':
      return [rootFieldTag('topics')];
    case 'topic.changed':
      return [row('Topic', change.topicId)];
    case 'template.created':
      return [TEMPLATE_LISTS];
    case 'template.figures-changed':
      // The lists sort and filter by its figures: it may enter or leave them.
      return [row('Template', change.templateId), TEMPLATE_LISTS];
    case 'template.rewritten':
      // Its forks (upstreamVersion, parent) and every diff of it: every template's answers go.
      // Its own tag too: what follows one template (a presence stream) needs no more.
      return [
        row('Template', change.templateId),
        'Template',
        TEMPLATE_LISTS,
        rootFieldTag('templateDiff'),
      ];
    case 'task.ended':
      // Tasks are never cached (DEFAULT_TTL_PER_COORDINATE): nothing to drop, no round trip.
      return [];
  }
}

/**
 * From now on every change this process announces drops its answers from `store` before the
 * announcement returns; returns how to stop.
 */
export function dropChangedResponses(store: ResponseStore): () => void {
  return listenToChanges((changes) => store.invalidate([...new Set(changes.flatMap(cacheTagsOf))]));
}
