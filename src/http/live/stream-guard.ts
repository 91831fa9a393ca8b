// Open subscriptions keep the rights they started with until something says otherwise: a key
// revoked, or a change of its user's memberships (removed, role lowered, left), which reaches
// this process through the key cache (the `apiKeyRevoked` signal, authenticator.ts). The
// streams of that key or user are checked again against the database: a key now refused ends
// them with UNAUTHENTICATED, as its next request would be; a user whose rights narrowed has
// each stream's subscribe resolver run again under the current rights, and a stream it
// refuses ends with that error (NOT_FOUND for a task of a team they left). A live query whose
// caller's rights changed (narrowed or widened) runs again as they now are. Results wait while
// the check runs, so nothing arriving after the change is delivered to a stream it ends, nor a
// live query's result read with the old rights to one it runs again.
// Signals can be lost (pub/sub is at-most-once, Redis may be away), so every open stream's key
// is also read again every SWEEP_MS: within the key cache's TTL, as a request would be.
import { createSourceEventStream, GraphQLError, type ExecutionArgs } from 'graphql';
import { ErrorCode } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';
import {
  KEY_CACHE_TTL_MS,
  type ApiKeyAuthenticator,
  type KeyChange,
} from '../../services/auth/authenticator.js';
import type { Caller } from '../../services/auth/caller.js';
import { atLeast } from '../../services/auth/permissions.js';
import type { Context } from '../../schema/builder.js';
import { visibilityKey } from '../live-query/visibility.js';
import { errorJson, toJson, type OperationResults } from './operation-results.js';

/** Under the key cache's TTL, leaving time for the read itself. */
const SWEEP_MS = KEY_CACHE_TTL_MS - 1_000;

const REFUSED = errorJson(
  new GraphQLError('This API key no longer grants access (revoked, or its user left its team)', {
    extensions: { code: ErrorCode.UNAUTHENTICATED },
  }),
);

export interface GuardedStream {
  args: ExecutionArgs & { contextValue: Context };
  results: OperationResults;
  /** Stops the stream's feed. */
  stop(): void;
  /** A live query: runs it again as the caller is now (instead of checking a subscribe resolver). */
  rerun?(contextValue: Context): void;
}

interface Entry extends GuardedStream {
  apiKeyId: string;
  userId: string;
}

/** Did the caller lose anything: a team, a role there, or a scope? */
function narrowed(before: Caller, after: Caller): boolean {
  for (const [teamId, role] of before.roles)
    if (!atLeast(after.roles.get(teamId), role)) return true;
  for (const scope of before.scopes) if (!after.scopes.has(scope)) return true;
  return false;
}

/** The subscribe resolver again, under `caller`: its refusal as a result text, or undefined. */
async function refusalUnder(args: GuardedStream['args'], caller: Caller) {
  const source = await createSourceEventStream({
    ...args,
    contextValue: { ...args.contextValue, caller },
  });
  if (!(Symbol.asyncIterator in source)) return toJson(source);
  // Feeds start when observed or iterated: this one never is.
  await source[Symbol.asyncIterator]().return?.();
  return undefined;
}

type Keys = Pick<ApiKeyAuthenticator, 'onChange' | 'currentCallers'>;

export class StreamGuard {
  private readonly streams = new Set<Entry>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly unlisten: () => void;

  constructor(
    private readonly keys: Keys,
    private readonly sweepMs = SWEEP_MS,
  ) {
    this.unlisten = keys.onChange((change) => this.changed(change));
  }

  /** Guards a started subscription until it ends; the operator's (no key to revoke) are not. */
  guard(stream: GuardedStream): void {
    const { apiKeyId, userId } = stream.args.contextValue.caller;
    if (!apiKeyId) return;
    const entry: Entry = { ...stream, apiKeyId, userId };
    this.streams.add(entry);
    stream.results.whenEnded(() => this.streams.delete(entry));
    this.sweeper ??= setInterval(() => this.sweep(), this.sweepMs).unref();
  }

  close(): void {
    this.unlisten();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.streams.clear();
  }

  private changed(change: KeyChange): void {
    const affected = [...this.streams].filter((entry) =>
      'apiKeyId' in change ? entry.apiKeyId === change.apiKeyId : entry.userId === change.userId,
    );
    if (!affected.length) return;
    const checked = this.check(affected);
    for (const entry of affected) entry.results.hold(checked);
  }

  private sweep(): void {
    if (!this.streams.size) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    void this.check([...this.streams]);
  }

  /** Never rejects: a failed read leaves the streams as they were, for the next sweep. */
  private async check(entries: readonly Entry[]): Promise<void> {
    try {
      const callers = await this.keys.currentCallers([...new Set(entries.map((e) => e.apiKeyId))]);
      await Promise.all(entries.map((entry) => this.recheck(entry, callers.get(entry.apiKeyId))));
    } catch (error) {
      logger.warn({ err: error }, 'could not check open streams against their keys; next sweep');
    }
  }

  private async recheck(entry: Entry, now: Caller | undefined): Promise<void> {
    if (!this.streams.has(entry)) return; // ended meanwhile
    if (!now) return this.end(entry, REFUSED);
    if (entry.rerun) return this.rerunLive(entry, now);
    const { contextValue } = entry.args;
    if (narrowed(contextValue.caller, now)) {
      const refusal = await refusalUnder(entry.args, now);
      if (!this.streams.has(entry)) return;
      if (refusal) return this.end(entry, refusal);
    }
    // Later events resolve their fields with the rights the caller has now.
    contextValue.caller = now;
  }

  private rerunLive(entry: Entry, now: Caller): void {
    const { contextValue } = entry.args;
    if (visibilityKey(contextValue.caller) === visibilityKey(now)) return;
    entry.args = { ...entry.args, contextValue: { ...contextValue, caller: now } };
    // What it sent while this check ran was read with the old rights: dropped.
    entry.results.dropHeld();
    entry.rerun!(entry.args.contextValue);
  }

  private end(entry: Entry, json: string): void {
    this.streams.delete(entry);
    entry.stop();
    entry.results.cutOff(json);
  }
}
