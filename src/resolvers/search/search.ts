// Querying an agent's knowledge (seed 000 /query and /query/stream).
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { badUserInput, notFound, type ErrorCode } from '../../platform/errors.js';
import { retrievalConfigSchema } from '../agents/agent-config.js';
import { parseGlobalId } from '../../platform/ids.js';
import { countQueryTerms, searchAgentChunks, type ChunkHitRow } from './sql/search-chunks.js';

export const MAX_TOP_K = 100;
export const DEFAULT_TOP_K = 10;
/** Hits fetched per round trip while streaming. */
export const STREAM_BATCH_SIZE = 5;

export interface SearchHit {
  index: number;
  documentId: string;
  chunkId: string;
  title: string;
  content: string;
  score: number;
}

interface PreparedSearch {
  agentId: string;
  query: string;
  topK: number;
  strategy: 'scope-first' | 'index-first';
}

/** Scopes larger than this (chunks, from the last coverage computation) search index-first. */
export const LARGE_SCOPE_CHUNKS = 50_000;

/** Validates the agent, the query and topK (argument, else retrievalConfig.top_k, else 10). */
async function prepareSearch(agentGlobalId: string, query: string, topK: number | null | undefined): Promise<PreparedSearch> {
  const agentId = parseGlobalId('Agent', agentGlobalId);
  const agent = agentId ? await db().agent.findUnique({ where: { id: agentId }, select: { retrievalConfig: true, totalChunks: true } }) : null;
  if (!agentId || !agent) throw notFound('Agent');
  const text = query.trim();
  if (!text) throw badUserInput('query must not be empty');
  if (text.length > 1_000) throw badUserInput('query must be at most 1000 characters');
  if (topK !== null && topK !== undefined && (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K)) {
    throw badUserInput(`topK must be between 1 and ${MAX_TOP_K}`);
  }
  if ((await countQueryTerms(db(), text)) === 0) throw badUserInput('query has no searchable terms (only stop words or punctuation)');
  const configured = retrievalConfigSchema.safeParse(agent.retrievalConfig);
  return {
    agentId,
    query: text,
    topK: topK ?? (configured.success ? configured.data.top_k : undefined) ?? DEFAULT_TOP_K,
    strategy: agent.totalChunks > LARGE_SCOPE_CHUNKS ? 'index-first' : 'scope-first',
  };
}

const toHit = (row: ChunkHitRow, index: number): SearchHit => ({
  index,
  documentId: row.documentId,
  chunkId: row.chunkId,
  title: row.title,
  content: row.content,
  score: row.score,
});

export async function queryAgent(agentGlobalId: string, query: string, topK: number | null | undefined) {
  const started = performance.now();
  const search = await prepareSearch(agentGlobalId, query, topK);
  const rows = await searchAgentChunks(db(), { agentId: search.agentId, query: search.query, limit: search.topK, strategy: search.strategy });
  const hits = rows.map(toHit);
  return { hits, totalResults: hits.length, queryTimeMs: performance.now() - started };
}

export type QueryStreamEvent =
  | { __typename: 'QueryStarted'; agentId: string; query: string }
  | { __typename: 'QueryHit'; hit: SearchHit }
  | { __typename: 'QueryCompleted'; totalResults: number; queryTimeMs: number }
  | { __typename: 'QueryFailed'; code: ErrorCode | string; message: string };

/**
 * The streamed query: started, each hit as soon as its batch is ranked, completed.
 * Failures are a QueryFailed event followed by the end of the stream, never a dropped
 * connection. Stops fetching as soon as the subscriber goes away.
 */
export async function* streamAgentQuery(agentGlobalId: string, query: string, topK: number | null | undefined): AsyncGenerator<QueryStreamEvent> {
  const started = performance.now();
  let search: PreparedSearch;
  try {
    search = await prepareSearch(agentGlobalId, query, topK);
  } catch (error) {
    yield failure(error);
    return;
  }
  yield { __typename: 'QueryStarted', agentId: agentGlobalId, query: search.query };
  let sent = 0;
  let after: { score: number; chunkId: string } | undefined;
  try {
    while (sent < search.topK) {
      const limit = Math.min(STREAM_BATCH_SIZE, search.topK - sent);
      const rows = await searchAgentChunks(db(), { agentId: search.agentId, query: search.query, limit, after, strategy: search.strategy });
      for (const row of rows) yield { __typename: 'QueryHit', hit: toHit(row, sent++) };
      if (rows.length < limit) break;
      const last = rows.at(-1)!;
      after = { score: last.score, chunkId: last.chunkId };
    }
  } catch (error) {
    yield failure(error);
    return;
  }
  yield { __typename: 'QueryCompleted', totalResults: sent, queryTimeMs: performance.now() - started };
}

function failure(error: unknown): QueryStreamEvent {
  const code = (error as { extensions?: { code?: string } })?.extensions?.code;
  if (code && code !== 'INTERNAL_SERVER_ERROR') return { __typename: 'QueryFailed', code, message: (error as Error).message };
  logger.error({ err: error }, 'streamed query failed');
  return { __typename: 'QueryFailed', code: 'INTERNAL_SERVER_ERROR', message: 'The query failed' };
}
