// Live queries in the app: @envelop/live-query's plugin on our store (store.ts), which runs a
// `@live` query as a stream on the live transports (a query or mutation whose execution is a
// stream is sent as one `next` per result: live/start-operation.ts), what @live is refused on
// (rules.ts: by validation, and before execution once the variables say whether it is live),
// and this process following the invalidations every process publishes (announce.ts).
import { useLiveQuery } from '@envelop/live-query';
import type { Plugin } from 'graphql-yoga';
import { Counter, type Registry } from 'prom-client';
import type { PubSub } from '../../platform/pubsub.js';
import { followLiveInvalidations } from './announce.js';
import { withStatus } from '../operation-limits.js';
import { liveOnQueriesOnly, liveQueryRefusal, liveRefusals } from './rules.js';
import { LiveQueryStore } from './store.js';

export interface LiveQueries {
  // envelop's plugin (the library's) and a yoga one: any context, as app.ts's list takes them.
  plugins: Array<Plugin<any>>;
  /** Settles once this app follows the invalidations (Redis acknowledged the SUBSCRIBE). */
  ready: Promise<void>;
  close(): void;
}

export function createLiveQueries(options: {
  pubsub: PubSub;
  registry: Registry;
  throttleMs?: number;
}): LiveQueries {
  const executions = new Counter({
    name: 'graphql_live_query_executions_total',
    help:
      'Executions of live queries: the first, and each run again after a change it read ' +
      '(equal live queries of one key share each).',
    registers: [options.registry],
  });
  const store = new LiveQueryStore({
    throttleMs: options.throttleMs,
    executed: () => executions.inc(),
  });
  const following = followLiveInvalidations(options.pubsub, (identifiers) =>
    store.invalidate(identifiers),
  );
  const rules: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(liveOnQueriesOnly);
      return ({ result, setResult }) => {
        if (result.length) setResult(liveRefusals(result));
      };
    },
    // A request error (HTTP 400 under every JSON media type), as the input bounds' refusals.
    onExecute({ args }) {
      const refusal = liveQueryRefusal(
        args.schema,
        args.document,
        args.operationName,
        args.variableValues as Record<string, unknown> | undefined,
      );
      if (refusal) throw withStatus(refusal, 400);
    },
  };
  // The library's validation rule (no @defer or @stream beside @live) left out: it refuses them
  // whatever `if` says; liveQueryRefusal says it once the variables are known.
  const { onValidate: _mixedRule, ...liveQueryPlugin } = useLiveQuery({ liveQueryStore: store });
  return {
    plugins: [liveQueryPlugin, rules],
    ready: following.ready,
    close: following.stop,
  };
}
