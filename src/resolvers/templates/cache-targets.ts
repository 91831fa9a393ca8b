// What a template change drops from the response cache (src/platform/response-cache).
import type { CacheTarget } from '../../platform/response-cache/invalidation.js';

/** A new template joins the lists. */
export const TEMPLATE_LISTS: CacheTarget[] = [{ rootField: 'templates' }];

/**
 * One template's figures moved (ratings, usage, flags): itself, and the lists, which it may
 * enter or leave (they sort and filter by them).
 */
export const templateMoved = (rowId: string): CacheTarget[] => [
  { type: 'Template', rowId },
  { rootField: 'templates' },
];

/**
 * A new version, a visibility change or a deletion: also its forks (upstreamVersion, parent)
 * and its diffs, so every template's answers go.
 */
export const TEMPLATES_REWRITTEN: CacheTarget[] = [
  { type: 'Template' },
  { rootField: 'templates' },
  { rootField: 'templateDiff' },
];
