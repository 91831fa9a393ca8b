// What GraphiQL opens with (yoga's render-graphiql, served from this process: no CDN). Its
// bundled GraphiQL 5 carries the GraphiQL Explorer plugin already (the sidebar's folder icon).
import type { GraphiQLOptions } from 'graphql-yoga';
import { GRAPHIQL_TOUR } from './tour.js';

/** The headers pane without a pre-filled key: where the key goes (answered UNAUTHENTICATED as is). */
export const GRAPHIQL_HEADERS_PLACEHOLDER = '{"Authorization": "Bearer <your key>"}';

/**
 * GraphiQL's options; `prefilled` are headers for the person at this machine (app.ts decides),
 * else the headers pane holds the placeholder.
 */
export function graphiqlOptions(prefilled: Record<string, string> | undefined): GraphiQLOptions {
  return {
    title: 'Agent Growth API',
    defaultQuery: GRAPHIQL_TOUR,
    // GraphiQL's subscriptions ask /graphql for an event stream (graphql-sse, distinct connections).
    subscriptionsProtocol: 'SSE',
    headers: prefilled ? JSON.stringify(prefilled, null, 2) : GRAPHIQL_HEADERS_PLACEHOLDER,
    // The pane below the editor opens on the headers: the key is the first thing needed.
    defaultEditorToolsVisibility: 'headers',
    // Keys stay out of the browser's storage.
    shouldPersistHeaders: false,
  };
}
