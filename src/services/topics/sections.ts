// topics.sections (JSON) as the ordered PlanSection list it holds.
import { z } from 'zod';
import type { PlanSection } from '../../reports/planner/types.js';

export type { PlanSection } from '../../reports/planner/types.js';

const sectionsSchema = z.array(
  z.object({ title: z.string(), description: z.string(), order: z.number().int() }),
);

/** Stored sections, in order; anything malformed reads as no sections (never a crash). */
export function parseSections(json: unknown): PlanSection[] {
  const parsed = sectionsSchema.safeParse(json);
  return parsed.success ? [...parsed.data].sort((a, b) => a.order - b.order) : [];
}
