// The JSON configs of an agent, validated (retrieval_config, features_config).
import { z } from 'zod';
import { badUserInput } from '../../platform/errors.js';

export const retrievalConfigSchema = z
  .object({
    top_k: z.number().int().min(1).max(100).optional(),
    strategy: z.enum(['fulltext', 'hybrid']).optional(),
  })
  .strict();

/** Feature flags are open-ended; the keys coverage reads are typed. */
export const featuresConfigSchema = z
  .object({
    coverageTarget: z.number().int().min(1).max(1_000_000).optional(),
    gapThreshold: z.number().min(0).max(100).optional(),
  })
  .catchall(
    z.union([
      z.boolean(),
      z.number(),
      z.string(),
      z.null(),
      z.array(z.unknown()),
      z.record(z.string(), z.unknown()),
    ]),
  );

function parse<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${[field, ...issue.path].join('.')}: ${issue.message}`,
    );
    throw badUserInput(`Invalid ${field}: ${problems.join('; ')}`, { problems });
  }
  return result.data;
}

export const parseRetrievalConfig = (value: unknown) =>
  parse(retrievalConfigSchema, value ?? {}, 'retrievalConfig');
export const parseFeaturesConfig = (value: unknown) =>
  parse(featuresConfigSchema, value ?? {}, 'featuresConfig');

/** What coverage measures against (issue: target default 1, gap threshold default 50). */
export function coverageSettings(featuresConfig: unknown) {
  const features = featuresConfigSchema.safeParse(featuresConfig ?? {});
  return {
    target: (features.success && features.data.coverageTarget) || 1,
    gapThreshold:
      features.success && features.data.gapThreshold !== undefined
        ? features.data.gapThreshold
        : 50,
  };
}
