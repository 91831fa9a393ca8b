// What an agent knows about a topic, through the search service (full-text ranking over
// the chunks in the agent's scope): the planner's hits and focus nodes, and each
// section's sources while the report is written.
import { db } from '../../platform/db.js';
import { terms } from '../../reports/planner/local.js';
import type { FocusNode, KnowledgeHit, PlanSection } from '../../reports/planner/types.js';
import type { SectionSource } from '../../reports/writers/types.js';
import { searchAgentKnowledge } from '../search/search.js';
import { selectHitDocumentNodes } from './sql/hit-document-nodes.js';
import { selectAgentScopeNodes } from './sql/topic-focus-nodes.js';

const PLAN_HITS = 8;
const MAX_QUERY_TERMS = 16;

/** The topic's words (BM25 ranks chunks with any of them): a topic is a phrase, not a conjunction of must-haves. */
export function anyWordQuery(text: string): string | undefined {
  const words = [...terms(text)].slice(0, MAX_QUERY_TERMS);
  return words.length ? words.join(' ') : undefined;
}

async function search(
  agentId: string,
  text: string,
  limit: number,
  readableTeamIds: readonly string[] | null,
): Promise<KnowledgeHit[]> {
  const query = anyWordQuery(text);
  if (!query) return [];
  const rows = await searchAgentKnowledge(agentId, query, limit, readableTeamIds);
  return rows.map((row) => ({
    documentId: row.documentId,
    title: row.title,
    content: row.content,
    score: row.score,
  }));
}

/** `readableTeamIds`: whose taxonomies the planner reads (the caller's teams; null: every team). */
export async function agentKnowledge(
  agent: { id: string; name: string },
  topic: string,
  readableTeamIds: readonly string[] | null,
) {
  const [hits, scope] = await Promise.all([
    search(agent.id, topic, PLAN_HITS, readableTeamIds),
    selectAgentScopeNodes(db(), agent.id),
  ]);
  const documentIds = [...new Set(hits.map((hit) => hit.documentId))];
  const documentNodes = documentIds.length
    ? await selectHitDocumentNodes(db(), agent.id, documentIds)
    : [];
  const focus = new Map<string, FocusNode>();
  // Nodes in the order their documents rank, then scope nodes whose label the topic names.
  for (const hit of hits) {
    for (const node of documentNodes.filter((row) => row.documentId === hit.documentId)) {
      const entry = focus.get(node.id) ?? {
        label: node.label,
        path: node.path,
        documentTitles: [],
      };
      if (!entry.documentTitles.includes(hit.title)) entry.documentTitles.push(hit.title);
      focus.set(node.id, entry);
    }
  }
  const topicTerms = terms(topic);
  for (const node of scope) {
    if (focus.has(node.id)) continue;
    if ([...terms(node.label)].some((term) => topicTerms.has(term)))
      focus.set(node.id, { label: node.label, path: node.path, documentTitles: [] });
  }
  return { name: agent.name, focus: [...focus.values()], hits };
}

/** A section's sources: the best chunks for the topic and the section, skipping chunks used before. */
export async function sectionSources(
  agentId: string,
  topic: string,
  section: PlanSection,
  used: Set<string>,
  readableTeamIds: readonly string[] | null,
  limit = 3,
): Promise<SectionSource[]> {
  const query = anyWordQuery(`${section.title} ${section.description} ${topic}`);
  if (!query) return [];
  const hits = await searchAgentKnowledge(agentId, query, limit * 3, readableTeamIds);
  const picked = hits.filter((hit) => !used.has(hit.chunkId)).slice(0, limit);
  for (const hit of picked) used.add(hit.chunkId);
  return picked.map((hit) => ({
    documentId: hit.documentId,
    title: hit.title,
    content: hit.content,
  }));
}
