// Querying an agent's knowledge.
import { readDb } from '../../platform/replicas.js';
import { logger } from '../../platform/logger.js';
import { badUserInput, DomainError, notFound, type ErrorCode } from '../../platform/errors.js';
import { retrievalConfigSchema } from '../agents/agent-config.js';
import { rowIdWhere } from '../../platform/ids.js';
import type { Caller } from '../auth/caller.js';
import { agentVisibleTo } from '../auth/visibility.js';
import { parseQuery } from './query-syntax.js';
import { rankChunks } from './ranking.js';
import { selectHits } from './sql/select-hits.js';
import { selectScopeStatistics, type ScopeStatistics } from './sql/scope-statistics.js';
import { readableTeamIds } from '../auth/permissions.js';

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

/** Whose search: the agent must be one the caller sees. */
type Who = Pick<Caller, 'isOperator' | 'roles'>;

interface PreparedSearch {
  topK: number;
  statistics: ScopeStatistics;
}

/**
 * Validates the agent, the query and topK (argument, else retrievalConfig.top_k, else 10), and
 * reads the scope's statistics.
 */
async function prepareSearch(
  agentId: string,
  query: string,
  topK: number | null | undefined,
  caller: Who,
): Promise<PreparedSearch> {
  const agent = await readDb().agent.findFirst({
    where: { AND: [rowIdWhere(agentId), agentVisibleTo(caller)] },
    select: { id: true, retrievalConfig: true },
  });
  if (!agent) throw notFound('Agent');
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
  const statistics = await selectScopeStatistics(
    readDb(),
    agent.id,
    parsed,
    readableTeamIds(caller) ?? null,
  );
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
  const ranking = await rankChunks(readDb(), statistics, limit);
  const rows = await selectHits(
    readDb(),
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
  agentId: string,
  query: string,
  topK: number | null | undefined,
  caller: Who,
): Promise<SearchResult> {
  const search = await prepareSearch(agentId, query, topK, caller);
  return answer(search.statistics, search.topK);
}

/**
 * The same ranking for callers inside the service (report planning and writing): plain words,
 * internal agent id, no validation; `readableTeamIds` as selectScopeStatistics takes them.
 */
export async function searchAgentKnowledge(
  agentId: string,
  text: string,
  limit: number,
  readableTeamIds: readonly string[] | null,
): Promise<SearchHit[]> {
  const parsed = parseQuery(text.replace(/["-]/g, ' '));
  const statistics = await selectScopeStatistics(readDb(), agentId, parsed, readableTeamIds);
  if (statistics.terms.length === 0) return [];
  return (await answer(statistics, limit)).hits;
}

export async function queryAgent(
  agentId: string,
  query: string,
  topK: number | null | undefined,
  caller: Who,
) {
  const started = performance.now();
  const result = await searchAgent(agentId, query, topK, caller);
  return { ...result, queryTimeMs: performance.now() - started };
}

/** The streamed query's events, as plain data (src/schema/search.ts gives them their types). */
export type QueryStreamEvent =
  | { kind: 'started'; agentId: string; query: string }
  | { kind: 'hit'; hit: SearchHit }
  | {
      kind: 'completed';
      totalResults: number;
      totalResultsIsEstimate: boolean;
      queryTimeMs: number;
    }
  | { kind: 'failed'; code: ErrorCode; message: string };

/**
 * The streamed query: started, each hit in rank order as soon as the ranking is known,
 * completed. Failures are a failed event followed by the end of the stream, never a
 * dropped connection.
 */
export async function* streamAgentQuery(
  agentId: string,
  query: string,
  topK: number | null | undefined,
  caller: Who,
): AsyncGenerator<QueryStreamEvent> {
  const started = performance.now();
  let search: PreparedSearch;
  try {
    search = await prepareSearch(agentId, query, topK, caller);
  } catch (error) {
    yield failure(error);
    return;
  }
  yield { kind: 'started', agentId, query: query.trim() };
  let result: SearchResult;
  try {
    result = await answer(search.statistics, search.topK);
  } catch (error) {
    yield failure(error);
    return;
  }
  for (const hit of result.hits) yield { kind: 'hit', hit };
  yield {
    kind: 'completed',
    totalResults: result.totalResults,
    totalResultsIsEstimate: result.totalResultsIsEstimate,
    queryTimeMs: performance.now() - started,
  };
}

function failure(error: unknown): QueryStreamEvent {
  // A domain error is the caller's (an unknown agent, an empty query): said as it is.
  if (error instanceof DomainError)
    return { kind: 'failed', code: error.code, message: error.message };
  logger.error({ err: error }, 'streamed query failed');
  return { kind: 'failed', code: 'INTERNAL_SERVER_ERROR', message: 'The query failed' };
}
