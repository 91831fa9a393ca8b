// Budgets: a call reserves its worst-case cost atomically, so 100 parallel calls
// against a budget for 10 spend at most the limit and 90 are refused; over the limit priced
// deployments are skipped (an unpriced one still answers), with none left the call is
// RATE_LIMITED (BUDGET_EXCEEDED, limitUsd, spentUsd, resetsAt) and planTopic uses the local
// plan; bad input names its argument.
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { RateLimitedError } from '../../src/platform/errors.js';
import {
  expireBudgetReservations,
  RESERVATION_TTL_MS as TTL,
} from '../../src/llm/budget-reservations.js';
import { reserveBudgets } from '../../src/llm/sql/reserve-budget.js';
import { settleBudgets } from '../../src/llm/sql/settle-budget.js';
import { useLlm, type Person } from './fixture.js';

const t = useLlm();
const SET =
  'mutation($input: SetBudgetInput!) { setBudget(input: $input) { id limitUsd spentUsd reservedUsd resetsAt softLimitReached } }';
// 100 output tokens (the call's max_tokens) at 1,000 USD per million: 0.1 USD a call, worst case and actual.
const PER_CALL = 0.1;

let carol: Person;
let priced: string;

beforeAll(async () => {
  carol = await t.person('carol');
  priced = await t.deployment(carol.key, {
    name: 'priced',
    baseUrl: t.primary.openaiBaseUrl,
    inputUsdPerMTok: 0,
    outputUsdPerMTok: 1_000,
  });
});

describe('budgets', () => {
  it('100 parallel calls against a budget for 10: spend within the limit, 90 refused', async () => {
    await t.configure();
    t.primary.reset();
    // The stub reports the call's whole max_tokens as output: actual = reserved.
    t.primary.behave({ usage: { input: 10, output: 100 }, headersDelayMs: 20 });
    await t.route(carol.key, { service: 'WRITE', deploymentIds: [priced] });
    const budget = await t.ok(
      SET,
      { input: { scope: 'TEAM', targetId: carol.teamId, limitUsd: 10 * PER_CALL, period: 'DAY' } },
      carol.key,
    );
    expect(budget.setBudget).toMatchObject({ spentUsd: 0, softLimitReached: false });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () => t.call(carol.scope, 'WRITE', { maxTokens: 100 })),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
    expect(refused).toHaveLength(90);
    const error = (refused[0] as PromiseRejectedResult).reason as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.details).toMatchObject({ reason: 'BUDGET_EXCEEDED', limitUsd: 1 });
    expect(Date.parse(error.details.resetsAt as string)).toBeGreaterThan(Date.now());
    expect(t.primary.requests).toHaveLength(10);
    await t.h.llm.metering.flush();
    await waitSettled(carol.scope.teamId!);
    const row = await db().llmBudget.findFirstOrThrow({ where: { teamId: carol.scope.teamId! } });
    expect(row.spentUsd).toBeLessThanOrEqual(row.limitUsd + 1e-9);
    expect(row.spentUsd).toBeCloseTo(1, 9);
    expect(await db().llmBudgetReservation.count({ where: { budgetId: row.id } })).toBe(0);
    const calls = await t.meteredCalls(carol.scope.teamId!);
    expect(calls.reduce((sum, c) => sum + c.costUsd, 0)).toBeCloseTo(row.spentUsd, 9);
    const listed = (await t.ok('{ budgets { limitUsd spentUsd softLimitReached } }', {}, carol.key))
      .budgets;
    expect(listed).toEqual([
      { limitUsd: 1, spentUsd: expect.closeTo(1, 9), softLimitReached: true },
    ]);
  });

  it('over budget: priced deployments are skipped, an unpriced one answers; none left is RATE_LIMITED', async () => {
    await t.configure();
    t.primary.reset();
    t.secondary.reset();
    const unpriced = await t.deployment(carol.key, {
      name: 'free',
      baseUrl: t.secondary.openaiBaseUrl,
    });
    await t.route(carol.key, { service: 'WRITE', deploymentIds: [priced, unpriced] });
    expect(await t.call(carol.scope)).toContain('STUB-SECTION');
    expect(t.primary.requests).toHaveLength(0);
    expect(t.secondary.requests).toHaveLength(1);
    const snapshot = await t.ok(
      '{ routingSnapshot(service: WRITE) { candidates { deployment { id } excludedReason } } }',
      {},
      carol.key,
    );
    expect(snapshot.routingSnapshot.candidates.map((c: any) => c.excludedReason)).toEqual([
      'BUDGET_EXCEEDED',
      null,
    ]);
    // generateTopicReport refuses up front when nothing the WRITE route may use is left.
    await t.route(carol.key, { service: 'WRITE', deploymentIds: [priced] });
    const planned = await t.ok(
      'mutation { planTopic(input: { topic: "Budgeted" }) { topic { id } plan } }',
      {},
      carol.key,
    );
    const refused = await t.h.gql(
      'mutation($input: GenerateTopicReportInput!) { generateTopicReport(input: $input) { id } }',
      { input: { topicId: planned.planTopic.topic.id, plan: planned.planTopic.plan } },
      carol.key,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'BUDGET_EXCEEDED',
      limitUsd: 1,
      spentUsd: expect.closeTo(1, 9),
      resetsAt: expect.any(String),
    });
    // So do runWorkflow and startWorkflow of a plan that writes sections; nothing starts.
    const input = { goal: 'Budgeted workflow', agentIds: [], planner: 'LOCAL' };
    const ran = await t.h.gql(
      'mutation($input: PlanWorkflowInput!) { runWorkflow(input: $input) { id } }',
      { input },
      carol.key,
    );
    expect(ran.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'BUDGET_EXCEEDED',
    });
    const { planWorkflow } = await t.ok(
      'mutation($input: PlanWorkflowInput!) { planWorkflow(input: $input) { id planVersion steps { kind } } }',
      { input },
      carol.key,
    );
    expect(planWorkflow.steps.map((s: any) => s.kind)).toContain('WRITE_SECTION');
    const started = await t.h.gql(
      'mutation($id: ID!, $v: Int!) { startWorkflow(id: $id, planVersion: $v) { id } }',
      { id: planWorkflow.id, v: planWorkflow.planVersion },
      carol.key,
    );
    expect(started.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      reason: 'BUDGET_EXCEEDED',
    });
    expect(
      await db().workflow.count({
        where: { goal: 'Budgeted workflow', status: { not: 'PLANNED' } },
      }),
    ).toBe(0);
  });

  it('planTopic over budget uses the local plan and says it fell back', async () => {
    await t.configure();
    await t.route(carol.key, { service: 'PLAN', deploymentIds: [priced] });
    const planned = await t.ok(
      'mutation { planTopic(input: { topic: "Over budget plan" }) { planner fellBack } }',
      {},
      carol.key,
    );
    expect(planned.planTopic).toEqual({ planner: 'local', fellBack: true });
  });

  it("a key's budget applies to that key only", async () => {
    await t.configure();
    t.primary.reset();
    t.primary.behave({ usage: { input: 10, output: 100 } });
    const dave = await t.person('dave');
    const cheap = await t.deployment(dave.key, {
      name: 'cheap',
      baseUrl: t.primary.openaiBaseUrl,
      outputUsdPerMTok: 1_000,
    });
    await t.route(dave.key, { service: 'WRITE', deploymentIds: [cheap] });
    await t.ok(
      SET,
      { input: { scope: 'API_KEY', targetId: dave.id, limitUsd: PER_CALL, period: 'TOTAL' } },
      dave.key,
    );
    await t.call(dave.scope, 'WRITE', { maxTokens: 100 });
    await expect(t.call(dave.scope, 'WRITE', { maxTokens: 100 })).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    // The same team, no key: its team has no budget.
    expect(await t.call({ ...dave.scope, apiKeyId: null }, 'WRITE', { maxTokens: 100 })).toContain(
      'STUB',
    );
  });

  it('refuses bad input, naming the argument; another team is NOT_FOUND', async () => {
    const attempt = (input: Record<string, unknown>, key = carol.key) =>
      t.h.gql(
        SET,
        { input: { scope: 'TEAM', targetId: carol.teamId, limitUsd: 1, period: 'DAY', ...input } },
        key,
      );
    for (const limitUsd of [-1, Number.MAX_VALUE]) {
      const refused = await attempt({ limitUsd });
      expect(refused.errors?.[0]?.extensions, String(limitUsd)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'input.limitUsd',
      });
    }
    const soft = await attempt({ softLimitPercent: 0 });
    expect(soft.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.softLimitPercent',
    });
    const period = await attempt({ period: 'YEAR' });
    expect(period.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      // Refused by its variable's type (an enum): named by the same path (src/schema/errors.ts).
      argument: 'input.period',
    });
    const theirs = await attempt({}, t.bob.key);
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const theirKey = await attempt({ scope: 'API_KEY', targetId: carol.id }, t.bob.key);
    expect(theirKey.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('budget windows and the worst case', () => {
  const rowOf = () => db().llmBudget.findFirstOrThrow({ where: { teamId: carol.scope.teamId! } });
  /** The budget's reserved and spent dollars now. */
  async function expectMoney(reservedUsd: number, spentUsd: number): Promise<void> {
    const row = await rowOf();
    expect(row.reservedUsd).toBeCloseTo(reservedUsd, 9);
    expect(row.spentUsd).toBeCloseTo(spentUsd, 9);
  }
  const dayStart = (offsetDays = 0) => {
    const now = new Date();
    return new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + offsetDays),
    );
  };

  /** The team's budget set to `limitUsd` a `period`, nothing spent or reserved in it; its id. */
  async function freshBudget(limitUsd: number, period = 'DAY') {
    await t.ok(
      SET,
      { input: { scope: 'TEAM', targetId: carol.teamId, limitUsd, period } },
      carol.key,
    );
    const { id } = await rowOf();
    await db().llmBudget.update({ where: { id }, data: { spentUsd: 0, reservedUsd: 0 } });
    await db().llmBudgetReservation.deleteMany({ where: { budgetId: id } });
    return id;
  }

  it('a window only moves forward: a reservation whose clock is behind counts in the newer window', async () => {
    const id = await freshBudget(1);
    // What a call that began after midnight left: the row already in tomorrow's window.
    await db().llmBudget.update({
      where: { id },
      data: { windowStart: dayStart(1), spentUsd: 0.9, reservedUsd: 0 },
    });
    expect(await reserveBudgets(db(), [id], 0.2, TTL)).toEqual([]);
    expect(await rowOf()).toMatchObject({
      windowStart: dayStart(1),
      spentUsd: 0.9,
      reservedUsd: 0,
    });
    expect(await reserveBudgets(db(), [id], 0.1, TTL)).toHaveLength(1);
    expect((await rowOf()).reservedUsd).toBeCloseTo(0.1, 9);
  });

  it("settling releases a reservation only from its own window: a period changed meanwhile keeps the new window's", async () => {
    const id = await freshBudget(10);
    await db().llmBudget.update({ where: { id }, data: { windowStart: dayStart() } });
    const [reserved] = await reserveBudgets(db(), [id], 0.3, TTL);
    // DAY became WEEK on a Monday: the same window start, a new window, its own reservations.
    await db().llmBudget.update({
      where: { id },
      data: { period: 'WEEK', spentUsd: 0, reservedUsd: 0.5 },
    });
    await settleBudgets(db(), [reserved!.reservationId], 0.1);
    await expectMoney(0.5, 0.1);
  });

  it('a settle that takes the spend past the soft threshold says so, once', async () => {
    const id = await freshBudget(1); // soft threshold: 80 % (0.8 USD)
    const settled = async (usd: number) => {
      const [held] = await reserveBudgets(db(), [id], usd, TTL);
      return settleBudgets(db(), [held!.reservationId], usd);
    };
    expect(await settled(0.5)).toEqual([]);
    expect(await settled(0.3)).toEqual([
      expect.objectContaining({ id, scope: 'TEAM', limitUsd: 1, softLimitPercent: 80 }),
    ]);
    expect(await settled(0.1)).toEqual([]);
  });

  it('every reservation released leaves exactly nothing reserved (no float residue)', async () => {
    const id = await freshBudget(10);
    const held = [];
    for (let i = 0; i < 3; i++) held.push(...(await reserveBudgets(db(), [id], 0.1, TTL)));
    for (const each of held) await settleBudgets(db(), [each.reservationId], 0);
    expect((await rowOf()).reservedUsd).toBe(0);
  });

  it('a settle applies once: repeated (its first commit unacknowledged), it changes nothing', async () => {
    const id = await freshBudget(10);
    const [mine] = await reserveBudgets(db(), [id], 0.4, TTL);
    await reserveBudgets(db(), [id], 0.5, TTL);
    await settleBudgets(db(), [mine!.reservationId], 0.1);
    await settleBudgets(db(), [mine!.reservationId], 0.1);
    await expectMoney(0.5, 0.1);
  });

  it('a reservation its process never settled expires into spend, in its own window only', async () => {
    const id = await freshBudget(10);
    // Two calls whose process died (SIGKILL) before settling, and one still under way.
    await reserveBudgets(db(), [id], 0.3, TTL);
    await reserveBudgets(db(), [id], 0.2, TTL);
    const [live] = await reserveBudgets(db(), [id], 0.4, TTL);
    await db().llmBudgetReservation.updateMany({
      where: { budgetId: id, id: { not: live!.reservationId } },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    expect(await expireBudgetReservations()).toBe(2);
    await expectMoney(0.4, 0.5);
    expect(await expireBudgetReservations()).toBe(0);
    // One from a window that has ended is dropped without touching the current one.
    await db().llmBudgetReservation.update({
      where: { id: live!.reservationId },
      data: { windowStart: dayStart(-1), expiresAt: new Date(Date.now() - 1_000) },
    });
    expect(await expireBudgetReservations()).toBe(1);
    expect(await rowOf()).toMatchObject({
      reservedUsd: expect.closeTo(0.4, 9),
      spentUsd: expect.closeTo(0.5, 9),
    });
    expect(await db().llmBudgetReservation.count({ where: { budgetId: id } })).toBe(0);
  });

  it('reserves for a provider that counts a token per byte: 100 parallel Korean prompts stay within the limit', async () => {
    await t.configure();
    t.primary.reset();
    const perInput = await t.deployment(carol.key, {
      name: `per-input-${Date.now()}`,
      baseUrl: t.primary.openaiBaseUrl,
      inputUsdPerMTok: 1_000,
      outputUsdPerMTok: 0,
    });
    await t.route(carol.key, { service: 'WRITE', deploymentIds: [perInput] });
    const user = '데이터 보존 정책을 비교해 주세요. '.repeat(20);
    const bytes = Buffer.byteLength(`s${user}`, 'utf8');
    // The worst a byte-level tokenizer can count: a token for every byte.
    t.primary.behave({ usage: { input: bytes, output: 1 }, headersDelayMs: 20 });
    const perCall = (bytes * 1_000) / 1_000_000;
    await freshBudget(10 * perCall, 'MONTH');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 100 }, () => t.call(carol.scope, 'WRITE', { maxTokens: 10, user })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThan(0);
    await t.h.llm.metering.flush();
    await waitSettled(carol.scope.teamId!);
    const row = await rowOf();
    // Characters ÷ 4 would have reserved a twelfth of this and let about 120 calls' cost in.
    expect(row.spentUsd).toBeLessThanOrEqual(row.limitUsd + 1e-9);
  });
});

/** Settling is off the token path: wait until no reservation is left. */
async function waitSettled(teamRowId: string) {
  for (let i = 0; i < 200; i++) {
    const row = await db().llmBudget.findFirst({ where: { teamId: teamRowId } });
    if (!row || row.reservedUsd < 1e-9) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('reservations were not settled');
}
