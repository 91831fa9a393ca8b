// Template ratings: 1-5 stars and a review,
// one per user per template (rating again replaces it). The template's ratingAverage and
// ratingCount are recomputed from the ratings under the template's row lock, in the same
// transaction as the rating, so they always match the ratings table.
import { db } from '../../platform/db.js';
import { badUserInput, forbidden, notFound } from '../../platform/errors.js';
import type { Caller } from '../auth/caller.js';
import { readableTeamIds } from '../auth/permissions.js';
import { lockVisibleTemplate } from './sql/lock-visible-template.js';
import { recomputeTemplateRating } from './sql/recompute-template-rating.js';
import { requireVisibleTemplate } from './templates.js';
import { announceChanges } from '../../platform/changes.js';

const MAX_REVIEW = 5_000;

/**
 * Rating your own template is refused (FORBIDDEN): an author's stars would only inflate
 * the average the marketplace sorts by.
 */
export async function rateTemplate(
  templateId: string,
  stars: number,
  review: string | null | undefined,
  caller: Caller,
): Promise<string> {
  if (!Number.isInteger(stars) || stars < 1 || stars > 5)
    throw badUserInput('stars must be an integer from 1 to 5', { field: 'stars' });
  const text = review?.trim() || null;
  if (text && text.length > MAX_REVIEW)
    throw badUserInput(`review must be at most ${MAX_REVIEW} characters`, { field: 'review' });
  const template = await requireVisibleTemplate(templateId, caller);
  if (template.ownerId === caller.userId) throw forbidden('You cannot rate your own template');
  await db().$transaction(
    async (tx) => {
      // Visibility is checked again under the lock: it may have changed since.
      if (!(await lockVisibleTemplate(tx, template.id, readableTeamIds(caller))))
        throw notFound('Template');
      const key = { templateId: template.id, userId: caller.userId };
      await tx.templateRating.upsert({
        where: { templateId_userId: key },
        create: { ...key, stars, review: text },
        update: { stars, review: text },
      });
      await recomputeTemplateRating(tx, template.id);
    },
    // Ratings of one template queue on its lock; give them time rather than failing.
    { maxWait: 10_000, timeout: 15_000 },
  );
  await announceChanges({ kind: 'template.figures-changed', templateId: template.id });
  return template.id;
}
