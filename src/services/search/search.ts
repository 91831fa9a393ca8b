// Querying an agent's knowledge.
import { readDb } from '../../platform/replicas.js';
import { logger } from '../../platform/logger.js';
import { badUserInput, DomainError, notFound, type ErrorCode } from '../../platform/errors.js';
import { retrievalConfigSchema } from '../agents/agent-config.js';
import { rowIdWhere } from '../../platform/ids.js';
import type { Caller } from '../auth/caller.js';
import { agentVisibleTo } from '../auth/visibility.js';
import { parseQuery } from './query-syntax.js';
import { rankChunks, type Ranking } from './ranking.js';
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
  if (!text) throw badUserInput('query must not be empty', { field: 'query' });
  if (text.length > 1_000)
    throw badUserInput('query must be at most 1000 characters', { field: 'query' });
  if (
    topK !== null &&
    topK !== undefined &&
    (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K)
  ) {
    throw badUserInput(`topK must be between 1 and ${MAX_TOP_K}`, { field: 'topK' });
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

/** A ranking: the chunks in rank order, and how many match. */
interface RankedChunks {
  ranked: Ranking['ranked'];
  totalResults: number;
  totalResultsIsEstimate: boolean;
}

async function rank(statistics: ScopeStatistics, limit: number): Promise<RankedChunks> {
  const ranking = await rankChunks(readDb(), statistics, limit);
  return {
    ranked: ranking.ranked,
    totalResults: ranking.total,
    totalResultsIsEstimate: ranking.totalIsEstimate,
  };
}

/**
 * A ranking's hits (chunks with their documents) in rank order, each as soon as it is read.
 * `firstApart`: the first hit's chunk is read on its own, so that it leaves before the rest are
 * read (a streamed query's first result); otherwise every chunk in one read. A chunk deleted
 * since the ranking drops out.
 */
export async function* readHits(
  ranked: RankedChunks['ranked'],
  firstApart = false,
): AsyncGenerator<SearchHit> {
  const batches = firstApart ? [ranked.slice(0, 1), ranked.slice(1)] : [ranked];
  let index = 0;
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const rows = await selectHits(
      readDb(),
      batch.map((hit) => hit.chunkId),
    );
    for (const hit of batch) {
      const row = rows.get(hit.chunkId);
      if (row) yield { index: index++, ...row, score: hit.score };
    }
  }
}

export async function collectHits(hits: AsyncIterable<SearchHit>): Promise<SearchHit[]> {
  const all: SearchHit[] = [];
  for await (const hit of hits) all.push(hit);
  return all;
}

/** The top `limit` chunks of the scope with their documents, in rank order, and the number of matches. */
async function answer(statistics: ScopeStatistics, limit: number): Promise<SearchResult> {
  const { ranked, ...totals } = await rank(statistics, limit);
  return { hits: await collectHits(readHits(ranked)), ...totals };
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

/** queryAgent ranked, its hits left to read (readHits): `queryTimeMs` is the time to rank. */
export interface RankedQuery extends RankedChunks {
  queryTimeMs: number;
}

/**
 * queryAgent checked (a refusal throws here) and its scope read, its ranking under way: for a
 * caller that reads the hits itself and may answer before the ranking is known (GraphQL's
 * @stream sends the answer's head then, as agentQueryStream sends QueryStarted). A caller that
 * never reads `ranking` drops its failure.
 */
export async function startAgentQuery(
  agentId: string,
  query: string,
  topK: number | null | undefined,
  caller: Who,
): Promise<{ ranking: Promise<RankedQuery> }> {
  const started = performance.now();
  const search = await prepareSearch(agentId, query, topK, caller);
  const ranking = rank(search.statistics, search.topK).then((ranked) => ({
    ...ranked,
    queryTimeMs: performance.now() - started,
  }));
  ranking.catch(() => {});
  return { ranking };
}

/** The hits of a ranking under way, each as soon as it is read (the first on its own). */
export async function* streamRankedHits(ranking: Promise<RankedQuery>): AsyncGenerator<SearchHit> {
  yield* readHits((await ranking).ranked, true);
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
  let totals: Omit<RankedChunks, 'ranked'>;
  try {
    const { ranked, ...rest } = await rank(search.statistics, search.topK);
    totals = rest;
    // The first hit is read on its own: it leaves before the rest are read.
    for await (const hit of readHits(ranked, true)) yield { kind: 'hit', hit };
  } catch (error) {
    yield failure(error);
    return;
  }
  yield {
    kind: 'completed',
    ...totals,
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
