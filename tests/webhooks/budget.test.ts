// budget.threshold from its real source: routed calls priced by a real provider (a local
// stub) take a team budget past its soft limit; the team's subscribed endpoint hears of it
// once, and not again for calls past the threshold in the same period.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { useLlm } from '../llm/fixture.js';
import { waitFor } from '../utils/wait.js';
import { verifyWith, webhookReceiver } from '../utils/webhook-receiver.js';
import { createEndpoint } from './fixture.js';

const t = useLlm();
const SET =
  'mutation($input: SetBudgetInput!) { setBudget(input: $input) { id softLimitReached } }';

describe('budget.threshold', () => {
  it('fires once when calls take a budget past its soft limit', async () => {
    const { h, alice } = t;
    const hook = await webhookReceiver(h);
    const endpoint = await createEndpoint(h, alice.key, alice.teamId, hook.url, [
      'budget.threshold',
    ]);
    const priced = await t.deployment(alice.key, {
      name: 'priced-hooks',
      baseUrl: t.primary.openaiBaseUrl,
      inputUsdPerMTok: 0,
      outputUsdPerMTok: 1_000,
    });
    await t.route(alice.key, { service: 'WRITE', deploymentIds: [priced] });
    // 100 output tokens at 1,000 USD per million: 0.1 USD a call; the threshold is 0.8 USD.
    t.primary.reset();
    t.primary.behave({ usage: { input: 10, output: 100 } });
    const budget = (
      await t.ok(
        SET,
        { input: { scope: 'TEAM', targetId: alice.teamId, limitUsd: 1, period: 'DAY' } },
        alice.key,
      )
    ).setBudget;
    await h.startWorker(t.app.pubsub);
    for (let call = 0; call < 7; call++) await t.call(alice.scope, 'WRITE', { maxTokens: 100 });
    const spent = (atLeast: number) =>
      waitFor(async () => {
        const row = await db().llmBudget.findFirstOrThrow({
          where: { teamId: alice.scope.teamId! },
        });
        return row.spentUsd >= atLeast - 1e-9 && row.reservedUsd < 1e-9 ? row : undefined;
      }, `spend of ${atLeast}`);
    await spent(0.7);
    expect(await db().webhookMessage.count({ where: { eventType: 'budget.threshold' } })).toBe(0);
    // The eighth call crosses 80 % (or, summed in floating point, the ninth); the tenth is
    // past it either way.
    for (const total of [0.8, 0.9, 1]) {
      await t.call(alice.scope, 'WRITE', { maxTokens: 100 });
      await spent(total);
    }
    await waitFor(async () => hook.received.length >= 1, 'the threshold webhook');
    const body = verifyWith(endpoint.secret, hook.received[0]!) as any;
    expect(body).toMatchObject({
      type: 'budget.threshold',
      data: {
        budgetId: budget.id,
        scope: 'TEAM',
        teamId: alice.teamId,
        limitUsd: 1,
        softLimitPercent: 80,
        period: 'DAY',
      },
    });
    expect(body.data.spentUsd).toBeGreaterThanOrEqual(0.8 - 1e-9);
    expect(body.data.spentUsd).toBeLessThan(0.95);
    expect(await db().webhookMessage.count({ where: { eventType: 'budget.threshold' } })).toBe(1);
  });
});
