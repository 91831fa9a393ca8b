// Which database a GraphQL operation reads (docs/operations.md, "Read replicas"): a query's
// lag-tolerant reads (readDb) go to a replica that has replayed the caller's last write; a
// mutation records, once it has run, the primary's WAL position as its caller's last write.
// A live query reads the primary: it runs again when told of a commit, which a replica may not
// have replayed yet. Nothing here without DATABASE_REPLICA_URLS.
import { getLiveDirectiveNode } from '@n1ru4l/graphql-live-query';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { logger } from '../platform/logger.js';
import { readRouting as routingOf, withReads } from '../platform/replicas.js';
import type { Caller } from '../services/auth/caller.js';

/** Whose writes a caller must see: per API key (the operator's key is one writer). */
const writerOf = (caller: Caller) => caller.apiKeyId ?? 'operator';

export function readRouting(options: { mayStore?: (request: Request) => boolean }): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const routing = routingOf();
      if (!routing) return;
      const context = args.contextValue as { caller?: Caller; request?: Request };
      const writer = context.caller && writerOf(context.caller);
      const definition = getOperationAST(args.document, args.operationName);
      const operation = definition?.operation;
      if (operation === 'mutation' && writer) {
        setExecuteFn(async (executeArgs) => {
          try {
            return await executeFn(executeArgs);
          } finally {
            await routing.recordWrite(writer).catch((err: Error) => {
              logger.warn({ err: err.message }, 'a write position was not recorded');
            });
          }
        });
      } else if (operation === 'query' && !getLiveDirectiveNode(definition!)) {
        // An answer the response cache may keep is read on the primary: a replica's older
        // answer must not outlive the change that dropped the cached one.
        if (context.request && options.mayStore?.(context.request)) return;
        setExecuteFn(async (executeArgs) => {
          const target = await routing.target(writer);
          return withReads(target.client, () => executeFn(executeArgs));
        });
      }
    },
  };
}
