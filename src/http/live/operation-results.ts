// One operation's results as JSON texts, for a live transport (graphql-sse, multipart,
// graphql-ws), in order, then its end; masked with the same maskError as yoga's.
//
// Fan-out: the subscribers of one task get the same event objects from the task feed,
// and executing one selection on one event for one caller gives one result. graphql-js
// would execute and serialise it once per subscriber; here it is executed and turned into
// JSON once per (event, document, operation, variables, caller), and every such
// subscriber is sent that text. Each subscriber keeps its own source stream, so its own
// replay, first event and completion are untouched.
import { execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { FeedObserver } from '../../feeds/push-feed.js';
import { maskErrorForStream } from '../../schema/errors.js';
import type { Transport } from './transport.js';

type Json = string | Promise<string>;

/** What yoga's maskedErrors does to a result, for a stream: maskErrorForStream on each error. */
function masked(result: ExecutionResult): ExecutionResult {
  return result.errors?.length
    ? { ...result, errors: result.errors.map(maskErrorForStream) }
    : result;
}

export const toJson = (result: ExecutionResult) => JSON.stringify(masked(result));

// Results several operations are sent (a live query's, shared by equal ones): one text each.
const texts = new WeakMap<ExecutionResult, string>();

/** toJson, once per result object. */
export function sharedJson(result: ExecutionResult): string {
  let text = texts.get(result);
  if (text === undefined) texts.set(result, (text = toJson(result)));
  return text;
}

/**
 * Subscriptions whose results are equal for equal events: the same document, operation,
 * variables and caller. A group remembers each event's result text (and the last one
 * apart: its subscribers usually ask for the same event one after another).
 */
export interface ResultGroup {
  subscriptions: number;
  lastEvent: unknown;
  lastJson: Json | undefined;
  readonly byEvent: WeakMap<object, Json>;
  /** One subscription left; the last one removes the group. */
  leave(): void;
}

const groupsByDocument = new WeakMap<DocumentNode, Map<string, ResultGroup>>();

export function joinGroup(document: DocumentNode, key: string): ResultGroup {
  let groups = groupsByDocument.get(document);
  if (!groups) groupsByDocument.set(document, (groups = new Map()));
  let group = groups.get(key);
  if (!group) {
    const created: ResultGroup = {
      subscriptions: 0,
      lastEvent: undefined,
      lastJson: undefined,
      byEvent: new WeakMap(),
      leave: () => {
        if (--created.subscriptions === 0 && groups.get(key) === created) groups.delete(key);
      },
    };
    groups.set(key, (group = created));
  }
  group.subscriptions++;
  return group;
}

function executeJson(args: ExecutionArgs, event: unknown): Json {
  const result = execute({ ...args, rootValue: event });
  return result instanceof Promise ? result.then(toJson) : toJson(result);
}

/**
 * Only an event object is shared: it stands for one event. A primitive may come again
 * with another meaning (an id sent after every change of what it names).
 */
function groupResultJson(group: ResultGroup, args: ExecutionArgs, event: unknown): Json {
  if (typeof event !== 'object' || event === null) return executeJson(args, event);
  if (event === group.lastEvent && group.lastJson !== undefined) return group.lastJson;
  let json = group.byEvent.get(event);
  if (json === undefined) group.byEvent.set(event, (json = executeJson(args, event)));
  group.lastEvent = event;
  group.lastJson = json;
  return json;
}

export const errorJson = (error: unknown) =>
  JSON.stringify({ errors: [maskErrorForStream(error)] });

/**
 * One operation's results, for a transport: it implements `deliver` (one result text) and
 * `finish` (the end); this class sends them in order, whether each text is ready now or
 * later, and for a subscription shares each event's text with the subscription's group.
 * The transport's object is itself what the event hub calls, thousands of times per event:
 * one object per subscriber on that path, not a chain of them (see WatchListener).
 */
export abstract class OperationResults implements FeedObserver<unknown> {
  private tail: Promise<void> | undefined;
  /** Holds under way (see hold), and the epoch of results sent while one is. */
  private holds = 0;
  private epoch = 0;
  /** Results held from an epoch below this are dropped (dropHeld). */
  private dropBelow = 0;
  private group: ResultGroup | undefined;
  private args: ExecutionArgs | undefined;
  private completed = false;
  /** Cut off (stream-guard.ts): results not yet delivered are dropped. */
  private cut = false;
  private readonly onEnd: Array<() => void> = [];
  private ended: (() => void) | undefined;

  /** The transport it is sent over (for the open subscriptions gauge). */
  abstract readonly transport: Transport;

  /** One result, as JSON text. */
  protected abstract deliver(json: string): void;
  /** After the last result. */
  protected abstract finish(): void;

  /** A subscription's event (FeedObserver). */
  next(event: unknown): void {
    this.send(groupResultJson(this.group!, this.args!, event));
  }

  error(error: unknown): void {
    this.send(errorJson(error));
    this.complete();
  }

  complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.leaveGroup();
    for (const onEnd of this.onEnd.splice(0)) onEnd();
    if (this.tail) void this.tail.then(() => this.finish());
    else this.finish();
  }

  send(json: Json): void {
    if (this.cut) return;
    if (typeof json === 'string' && this.tail === undefined) return this.deliver(json);
    const epoch = this.holds > 0 ? this.epoch : Number.POSITIVE_INFINITY;
    const wanted = () => !this.cut && epoch >= this.dropBelow;
    this.tail = (this.tail ?? Promise.resolve())
      .then(() => json)
      .then(
        (text) => {
          if (wanted()) this.deliver(text);
        },
        (error: unknown) => {
          if (wanted()) this.deliver(errorJson(error));
        },
      );
  }

  /**
   * startOperation: a subscription's events are executed with `args`, shared with `group`;
   * `ended` is told once, when it completes or is stopped.
   */
  shareWith(group: ResultGroup, args: ExecutionArgs, ended: () => void): void {
    this.group = group;
    this.args = args;
    this.ended = ended;
  }

  /** Called once when the results end, however they end (each callback given). */
  whenEnded(onEnd: () => void): void {
    this.onEnd.push(onEnd);
  }

  /** Results sent from now on wait for `gate` (a check of the caller's rights; stream-guard.ts). */
  hold(gate: Promise<void>): void {
    this.holds++;
    const held: Promise<void> = (this.tail ?? Promise.resolve())
      .then(() => gate)
      .then(() => {
        this.holds--;
        if (this.tail === held) this.tail = undefined;
      });
    this.tail = held;
  }

  /**
   * The results sent under the holds so far are dropped, not delivered when they end: a live
   * query that runs again under the caller's new rights (its runs under the old ones are void).
   */
  dropHeld(): void {
    this.dropBelow = ++this.epoch;
  }

  /** Ends with `json` (an error result), dropping every result not delivered yet. */
  cutOff(json: string): void {
    if (this.completed) return;
    this.cut = true;
    if (this.tail) this.tail = this.tail.then(() => this.deliver(json));
    else this.deliver(json);
    this.complete();
  }

  leaveGroup(): void {
    const { group, ended } = this;
    if (!group) return;
    this.group = undefined;
    this.ended = undefined;
    group.leave();
    ended?.();
  }
}
