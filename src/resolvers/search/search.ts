// Querying an agent's knowledge (seed 000 /query and /query/stream).
import { db } from '../../platform/db.js';
import { logger } from '../../platform/logger.js';
import { badUserInput, notFound, type ErrorCode } from '../../platform/errors.js';
import { retrievalConfigSchema } from '../agents/agent-config.js';
import { parseGlobalId } from '../../platform/ids.js';
import { parseQuery } from './query-syntax.js';
import { rankChunks } from './ranking.js';
import { selectHits } from './sql/select-hits.js';
import { selectScopeStatistics, type ScopeStatistics } from './sql/scope-statistics.js';

export const MAX_TOP_K = 100;
export const DEFAULT_TOP_K = 10;

export interface SearchHit {
  index: number;
  documentId: string;
  chunkId: string;
  title: string;
  content: string;
  score: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Chunks in the scope that match (see ranking.ts: exact up to EXACT_COUNT_CAP). */
  totalResults: number;
  totalResultsIsEstimate: boolean;
}

interface PreparedSearch {
  topK: number;
  statistics: ScopeStatistics;
}

/** Validates the agent, the query and topK (argument, else retrievalConfig.top_k, else 10), and reads the scope's statistics. */
async function prepareSearch(
  agentGlobalId: string,
  query: string,
  topK: number | null | undefined,
): Promise<PreparedSearch> {
  const agentId = parseGlobalId('Agent', agentGlobalId);
  const agent = agentId
    ? await db().agent.findUnique({ where: { id: agentId }, select: { retrievalConfig: true } })
    : null;
  if (!agentId || !agent) throw notFound('Agent');
  const text = query.trim();
  if (!text) throw badUserInput('query must not be empty');
  if (text.length > 1_000) throw badUserInput('query must be at most 1000 characters');
  if (
    topK !== null &&
    topK !== undefined &&
    (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K)
  ) {
    throw badUserInput(`topK must be between 1 and ${MAX_TOP_K}`);
  }
  const parsed = parseQuery(text);
  const statistics = await selectScopeStatistics(db(), agentId, parsed);
  if (statistics.terms.length === 0)
    throw badUserInput(
      'query has no searchable terms (only stop words, punctuation or excluded words)',
    );
  const configured = retrievalConfigSchema.safeParse(agent.retrievalConfig);
  return {
    topK: topK ?? (configured.success ? configured.data.top_k : undefined) ?? DEFAULT_TOP_K,
    statistics,
  };
}

/** The top `limit` chunks of the scope with their documents, in rank order, and the number of matches. */
async function answer(statistics: ScopeStatistics, limit: number): Promise<SearchResult> {
  const ranking = await rankChunks(db(), statistics, limit);
  const rows = await selectHits(
    db(),
    ranking.ranked.map((hit) => hit.chunkId),
  );
  // A chunk deleted since the ranking drops out.
  const found = ranking.ranked.flatMap((hit) =>
    rows.has(hit.chunkId) ? [{ ...rows.get(hit.chunkId)!, score: hit.score }] : [],
  );
  return {
    hits: found.map((hit, index) => ({ index, ...hit })),
    totalResults: ranking.total,
    totalResultsIsEstimate: ranking.totalIsEstimate,
  };
}

/** BM25 over the agent's scope: the top `topK` chunks and the number of matches. */
export async function searchAgent(
  agentGlobalId: string,
  query: string,
  topK: number | null | undefined,
): Promise<SearchResult> {
  const search = await prepareSearch(agentGlobalId, query, topK);
  return answer(search.statistics, search.topK);
}

/** The same ranking for callers inside the service (report planning): plain words, internal agent id, no validation. */
export async function searchAgentKnowledge(
  agentId: string,
  text: string,
  limit: number,
): Promise<SearchHit[]> {
  const parsed = parseQuery(text.replace(/["-]/g, ' '));
  const statistics = await selectScopeStatistics(db(), agentId, parsed);
  if (statistics.terms.length === 0) return [];
  return (await answer(statistics, limit)).hits;
}

export async function queryAgent(
  agentGlobalId: string,
  query: string,
  topK: number | null | undefined,
) {
  const started = performance.now();
  const result = await searchAgent(agentGlobalId, query, topK);
  return { ...result, queryTimeMs: performance.now() - started };
}

export type QueryStreamEvent =
  | { __typename: 'QueryStarted'; agentId: string; query: string }
  | { __typename: 'QueryHit'; hit: SearchHit }
  | {
      __typename: 'QueryCompleted';
      totalResults: number;
      totalResultsIsEstimate: boolean;
      queryTimeMs: number;
    }
  | { __typename: 'QueryFailed'; code: ErrorCode | string; message: string };

/**
 * The streamed query: started, each hit in rank order as soon as the ranking is known,
 * completed. Failures are a QueryFailed event followed by the end of the stream, never a
 * dropped connection.
 */
export async function* streamAgentQuery(
  agentGlobalId: string,
  query: string,
  topK: number | null | undefined,
): AsyncGenerator<QueryStreamEvent> {
  const started = performance.now();
  let search: PreparedSearch;
  try {
    search = await prepareSearch(agentGlobalId, query, topK);
  } catch (error) {
    yield failure(error);
    return;
  }
  yield { __typename: 'QueryStarted', agentId: agentGlobalId, query: query.trim() };
  let result: SearchResult;
  try {
    result = await answer(search.statistics, search.topK);
  } catch (error) {
    yield failure(error);
    return;
  }
  for (const hit of result.hits) yield { __typename: 'QueryHit', hit };
  yield {
    __typename: 'QueryCompleted',
    totalResults: result.totalResults,
    totalResultsIsEstimate: result.totalResultsIsEstimate,
    queryTimeMs: performance.now() - started,
  };
}

function failure(error: unknown): QueryStreamEvent {
  const code = (error as { extensions?: { code?: string } })?.extensions?.code;
  if (code && code !== 'INTERNAL_SERVER_ERROR')
    return { __typename: 'QueryFailed', code, message: (error as Error).message };
  logger.error({ err: error }, 'streamed query failed');
  return { __typename: 'QueryFailed', code: 'INTERNAL_SERVER_ERROR', message: 'The query failed' };
}
