// Metering off the token path: every attempt's llm_calls row, the vault's DECRYPT audit rows
// (a key is opened once per deployment entry of the catalog, with the call it served first)
// and the keys' lastUsedAt go into an in-process buffer that one writer flushes every
// FLUSH_MS in one transaction (a few statements for hundreds of calls), so no token waits
// on PostgreSQL. Nothing acknowledged is dropped: a failed flush keeps its rows and tries
// again, and close() (the graceful shutdown) flushes what is left before the pool closes.
// What a killed process (SIGKILL) loses is at most the last interval's rows, and those
// calls' budgets stay reserved (never under-counted).
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { insertLlmCalls, type LlmCallRow } from './sql/insert-llm-calls.js';

export type { LlmCallRow };

/** The vault key a call used: its lastUsedAt, and a DECRYPT audit row when it was opened for it. */
export interface KeyUse {
  providerKeyId: string;
  teamId: string | null;
  apiKeyId: string | null;
  llmCallId: string;
  at: Date;
  decrypted: boolean;
}

export interface MeteringWriter {
  record(call: LlmCallRow, keyUse?: KeyUse): void;
  /** Writes what is buffered now (tests and the bench wait on it). */
  flush(): Promise<void>;
  /** Flushes everything, then stops. */
  close(): Promise<void>;
  /** Rows buffered and not yet written. */
  readonly pending: number;
}

const FLUSH_MS = 100;
/** Rows per statement (19 arrays of this many values). */
const BATCH_ROWS = 5_000;
const RETRY_MS = 1_000;

async function write(calls: LlmCallRow[], audits: KeyUse[]): Promise<void> {
  const used = new Map<string, Date>();
  for (const audit of audits) {
    const seen = used.get(audit.providerKeyId);
    if (!seen || seen < audit.at) used.set(audit.providerKeyId, audit.at);
  }
  await db().$transaction(async (tx) => {
    for (let i = 0; i < calls.length; i += BATCH_ROWS)
      await insertLlmCalls(tx, calls.slice(i, i + BATCH_ROWS));
    const decrypts = audits.filter((use) => use.decrypted);
    if (decrypts.length)
      await tx.providerKeyAudit.createMany({
        data: decrypts.map(({ decrypted: _decrypted, ...use }) => ({
          ...use,
          action: 'DECRYPT' as const,
        })),
      });
    for (const [id, at] of used)
      await tx.providerKey.updateMany({
        where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] },
        data: { lastUsedAt: at },
      });
  });
}

export function createMeteringWriter(): MeteringWriter {
  let calls: LlmCallRow[] = [];
  let audits: KeyUse[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;

  const schedule = (ms: number) => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
    timer.unref();
  };

  async function flushOnce(): Promise<void> {
    if (calls.length === 0 && audits.length === 0) return;
    const batch = { calls, audits };
    calls = [];
    audits = [];
    try {
      await write(batch.calls, batch.audits);
    } catch (error) {
      // Kept, ahead of newer rows, and tried again (a retried insert skips the rows it wrote).
      calls = batch.calls.concat(calls);
      audits = batch.audits.concat(audits);
      logger.warn(
        { err: (error as Error).message, rows: calls.length },
        'LLM metering write failed; retrying',
      );
      throw error;
    }
  }

  function flush(): Promise<void> {
    flushing ??= flushOnce()
      .catch(() => schedule(RETRY_MS))
      .finally(() => {
        flushing = undefined;
        if (calls.length) schedule(FLUSH_MS);
      });
    return flushing;
  }

  return {
    record(call, keyUse) {
      calls.push(call);
      if (keyUse) audits.push(keyUse);
      schedule(FLUSH_MS);
    },
    async flush() {
      await flushing;
      await flush();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      // Until it is all written or the database is gone for good (the shutdown's timeout).
      for (let tries = 0; calls.length + audits.length > 0 && tries < 20; tries++) {
        await flushing;
        await flushOnce().catch(() => new Promise((r) => setTimeout(r, 250)));
      }
      if (calls.length)
        logger.error({ rows: calls.length }, 'LLM metering rows could not be written at shutdown');
    },
    get pending() {
      return calls.length;
    },
  };
}
