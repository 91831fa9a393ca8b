// LLM_* as the operator's deployment `env`, made or brought up to date at start-up: a route
// may name it, and with no route it is what every call uses.
import type { LlmConfig } from '../platform/config.js';
import { db } from '../platform/db.js';

export const ENV_DEPLOYMENT = 'env';

/** Start-up: LLM_* as the operator's deployment `env` (made or brought up to date); its id. */
export async function ensureEnvDeployment(
  llm: Pick<LlmConfig, 'provider'> & Partial<Pick<LlmConfig, 'baseUrl' | 'model' | 'prices'>>,
): Promise<string> {
  const priced =
    llm.prices && (llm.prices.inputPerMillionTokens || llm.prices.outputPerMillionTokens);
  const data = {
    kind: llm.provider,
    baseUrl: llm.baseUrl ?? null,
    model: llm.model ?? 'local',
    inputUsdPerMTok: priced ? llm.prices!.inputPerMillionTokens : null,
    outputUsdPerMTok: priced ? llm.prices!.outputPerMillionTokens : null,
  };
  for (let attempt = 0; ; attempt++) {
    const existing = await db().llmDeployment.findFirst({
      where: { teamId: null, name: ENV_DEPLOYMENT, deletedAt: null },
      select: { id: true },
    });
    try {
      if (existing)
        return (
          await db().llmDeployment.update({
            where: { id: existing.id },
            data: { ...data, fromEnvironment: true },
          })
        ).id;
      return (
        await db().llmDeployment.create({
          data: { ...data, name: ENV_DEPLOYMENT, teamId: null, fromEnvironment: true },
        })
      ).id;
    } catch (error) {
      // Another process made it first: read it again.
      if (attempt >= 2) throw error;
    }
  }
}
