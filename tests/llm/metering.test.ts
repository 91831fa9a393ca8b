// The metering writer: nothing acknowledged is written twice or dropped, whatever
// the order of a flush, its retry and the shutdown.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import {
  createMeteringWriter,
  writeMeteringBatch,
  type LlmCallRow,
} from '../../src/llm/metering.js';
import { waitFor } from '../utils/wait.js';
import { rowId, useLlm, type Person } from './fixture.js';

const callOf = (person: Person): LlmCallRow => ({
  id: randomUUID(),
  service: 'WRITE',
  deploymentId: null,
  provider: 'stub',
  model: 'stub-model',
  teamId: person.scope.teamId,
  apiKeyId: person.scope.apiKeyId,
  topicId: null,
  taskId: null,
  workflowId: null,
  attempt: 1,
  inputTokens: 12,
  outputTokens: 34,
  usageEstimated: false,
  costUsd: 0.001,
  latencyMs: 5,
  timeToFirstTokenMs: 2,
  outcome: 'OK',
  httpStatus: 200,
  createdAt: new Date(),
});

describe('the LLM metering writer', () => {
  const t = useLlm();

  it('a batch written again (its commit’s acknowledgement lost) adds no call and no DECRYPT row twice', async () => {
    const key = await t.addKey(t.alice.key, `sk-metering-${randomUUID()}`);
    const call = callOf(t.alice);
    const use = {
      providerKeyId: rowId(key.id),
      teamId: call.teamId,
      apiKeyId: call.apiKeyId,
      llmCallId: call.id,
      at: call.createdAt,
      decrypted: true,
    };
    await writeMeteringBatch([call], [use]);
    await writeMeteringBatch([call], [use]);
    expect(await db().llmCall.count({ where: { id: call.id } })).toBe(1);
    const audits = await db().providerKeyAudit.findMany({ where: { llmCallId: call.id } });
    expect(audits.map((audit) => audit.action)).toEqual(['DECRYPT']);
    expect(audits[0]!.providerKeyId).toBe(rowId(key.id));
  });

  it('sums of costs leave no float residue where clients read them (0.1 + 0.2 is 0.3)', async () => {
    const bob = await t.person(`metering-${randomUUID().slice(0, 8)}`);
    const calls = [0.1, 0.2].map((costUsd) => ({ ...callOf(bob), costUsd }));
    await writeMeteringBatch(calls, []);
    const rows = (
      await t.ok(
        'query($from: DateTime!, $to: DateTime!) { llmUsage(from: $from, to: $to, groupBy: [SERVICE]) { costUsd calls } }',
        {
          from: new Date(Date.now() - 60_000).toISOString(),
          to: new Date(Date.now() + 60_000).toISOString(),
        },
        bob.key,
      )
    ).llmUsage;
    expect(rows).toEqual([{ costUsd: 0.3, calls: 2 }]);
  });

  it('a call whose row PostgreSQL would refuse is written as it can be, and the next ones with it', async () => {
    const writer = createMeteringWriter();
    // A provider's usage past the int columns, a NUL in what it says its model is.
    const odd = {
      ...callOf(t.alice),
      model: 'm\u0000',
      inputTokens: 2_500_000_000,
      outputTokens: Number.NaN,
    };
    writer.record(odd);
    await writer.flush().catch(() => undefined);
    const next = callOf(t.alice);
    writer.record(next);
    await writer.flush();
    expect(writer.pending).toBe(0);
    expect(await db().llmCall.findUniqueOrThrow({ where: { id: odd.id } })).toMatchObject({
      model: 'm\uFFFD',
      inputTokens: 2_147_483_647,
      outputTokens: 0,
    });
    expect(await db().llmCall.count({ where: { id: next.id } })).toBe(1);
  });

  it('a call that ends after close() (cut off by the shutdown’s timeout) is still written', async () => {
    const writer = createMeteringWriter();
    writer.record(callOf(t.alice));
    await writer.close();
    expect(writer.pending).toBe(0);
    const late = callOf(t.alice);
    writer.record(late);
    // Nobody flushes it: the writer must write it by itself.
    await waitFor(
      async () => (await db().llmCall.count({ where: { id: late.id } })) === 1,
      'the late call’s row',
    );
    expect(writer.pending).toBe(0);
  });
});
