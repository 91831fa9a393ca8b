// Metering off the token path: every attempt's llm_calls row, the vault's DECRYPT audit rows
// (a key is opened once per deployment entry of the catalog, with the call it served first)
// and the keys' lastUsedAt go into an in-process buffer that one writer flushes every
// FLUSH_MS in one transaction (a few statements for hundreds of calls), so no token waits
// on PostgreSQL. Nothing acknowledged is dropped: a failed flush keeps its rows and tries
// again (a batch written twice adds no row twice), close() (the graceful shutdown) flushes
// what is left before the pool closes, and a call that ends after it is written at once.
// What a killed process (SIGKILL) loses is at most the last interval's rows, and those
// calls' budgets stay reserved (never under-counted).
import { db } from '../platform/db.js';
import { logger } from '../platform/logger.js';
import { storableCount, storableNumber, writableText } from '../platform/storable.js';
import { insertDecryptAudits } from './sql/insert-decrypt-audits.js';
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
/** Rows per statement (one JSON text of this many rows). */
const BATCH_ROWS = 5_000;
const RETRY_MS = 1_000;

/** One batch in one transaction; written again (a retry), it adds nothing twice. */
export async function writeMeteringBatch(calls: LlmCallRow[], audits: KeyUse[]): Promise<void> {
  const used = new Map<string, Date>();
  for (const audit of audits) {
    const seen = used.get(audit.providerKeyId);
    if (!seen || seen < audit.at) used.set(audit.providerKeyId, audit.at);
  }
  await db().$transaction(async (tx) => {
    for (let i = 0; i < calls.length; i += BATCH_ROWS)
      await insertLlmCalls(tx, calls.slice(i, i + BATCH_ROWS));
    await insertDecryptAudits(
      tx,
      audits.filter((use) => use.decrypted).map(({ decrypted: _decrypted, ...use }) => use),
    );
    for (const [id, at] of used)
      await tx.providerKey.updateMany({
        where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] },
        data: { lastUsedAt: at },
      });
  });
}

/**
 * The call as its row can hold it. A batch is written whole and retried whole, so one value
 * PostgreSQL refused (a provider's usage past the int columns, a NUL in a model name) held
 * back every later call of the process (src/platform/storable.ts).
 */
function storableCall(call: LlmCallRow): LlmCallRow {
  return {
    ...call,
    provider: writableText(call.provider),
    model: writableText(call.model),
    attempt: storableCount(call.attempt),
    inputTokens: storableCount(call.inputTokens),
    outputTokens: storableCount(call.outputTokens),
    costUsd: storableNumber(call.costUsd),
    latencyMs: storableCount(call.latencyMs),
    timeToFirstTokenMs:
      call.timeToFirstTokenMs === null ? null : storableCount(call.timeToFirstTokenMs),
    httpStatus: call.httpStatus === null ? null : storableCount(call.httpStatus),
  };
}

class MeteringBuffer implements MeteringWriter {
  private calls: LlmCallRow[] = [];
  private uses: KeyUse[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  get pending(): number {
    return this.calls.length;
  }

  record(call: LlmCallRow, keyUse?: KeyUse): void {
    this.calls.push(storableCall(call));
    if (keyUse) this.uses.push(keyUse);
    // A call that ended after close() (one the shutdown's timeout cut off) is written at once:
    // the database closes after the writer.
    this.schedule(this.closed ? 0 : FLUSH_MS);
  }

  async flush(): Promise<void> {
    await this.flushing;
    await this.flushSoon();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Until it is all written or the database is gone for good (the shutdown's timeout).
    for (let tries = 0; this.calls.length + this.uses.length > 0 && tries < 20; tries++) {
      await this.flushing;
      await this.flushOnce().catch(() => new Promise((r) => setTimeout(r, 250)));
    }
    if (this.calls.length)
      logger.error(
        { rows: this.calls.length },
        'LLM metering rows could not be written at shutdown',
      );
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flushSoon();
    }, ms);
    this.timer.unref();
  }

  private flushSoon(): Promise<void> {
    this.flushing ??= this.flushOnce()
      .catch(() => this.schedule(RETRY_MS))
      .finally(() => {
        this.flushing = undefined;
        if (this.calls.length) this.schedule(FLUSH_MS);
      });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.calls.length === 0 && this.uses.length === 0) return;
    const batch = { calls: this.calls, uses: this.uses };
    this.calls = [];
    this.uses = [];
    try {
      await writeMeteringBatch(batch.calls, batch.uses);
    } catch (error) {
      // Kept, ahead of newer rows, and tried again (a retried insert skips the rows it wrote).
      this.calls = batch.calls.concat(this.calls);
      this.uses = batch.uses.concat(this.uses);
      logger.warn(
        { err: (error as Error).message, rows: this.calls.length },
        'LLM metering write failed; retrying',
      );
      throw error;
    }
  }
}

export const createMeteringWriter = (): MeteringWriter => new MeteringBuffer();
