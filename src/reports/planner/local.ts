// The local planner (the default): deterministic, no network, no I/O (its time alone:
// bench/README.md, `plan`). The sections come from the template's promptSystem (the planning
// guide) — its headings, else its numbered or bullet lists — or a default outline; an agent's
// knowledge adds sections for the taxonomy areas the topic touches (default outline) and
// points each section at the documents that back it.
import {
  finishSections,
  renderPlan,
  sectionsFromHeadings,
  sectionsFromLists,
  type DraftSection,
} from './markdown.js';
import type { FocusNode, KnowledgeHit, Language, Plan, PlanContext } from './types.js';

const MAX_FOCUS_SECTIONS = 3;
const MAX_SOURCES_PER_SECTION = 3;

const TEXT = {
  ko: {
    title: (topic: string) => `보고서 계획: ${topic}`,
    template: (name: string) => `템플릿: ${name}`,
    agent: (name: string) => `지식 에이전트: ${name}`,
    areas: (labels: string[]) => `관련 지식 분야: ${labels.join(', ')}`,
    documents: (titles: string[]) => `참고 문서: ${titles.map((t) => `「${t}」`).join(', ')}`,
    sources: (titles: string[]) => `근거 문서: ${titles.map((t) => `「${t}」`).join(', ')}.`,
    fallbackDescription: (topic: string, title: string) => `${topic}에 대한 ${title}.`,
    focus: (topic: string, node: FocusNode) => `${node.path.join(' > ')} 관점에서 본 ${topic}.`,
    opening: (topic: string) => [
      { title: '개요', description: `${topic} 보고서의 목적과 범위, 핵심 내용 요약.` },
      { title: '배경 및 현황', description: `${topic}의 배경과 현재 상황.` },
    ],
    analysis: (topic: string) => ({
      title: '주요 분석',
      description: `${topic}의 핵심 쟁점과 근거 분석.`,
    }),
    closing: (topic: string) => [
      { title: '시사점', description: `분석 결과가 ${topic}에 주는 의미와 기회, 위험 요인.` },
      { title: '결론 및 제언', description: '요약과 향후 과제, 실행 제언.' },
    ],
  },
  en: {
    title: (topic: string) => `Report plan: ${topic}`,
    template: (name: string) => `Template: ${name}`,
    agent: (name: string) => `Knowledge agent: ${name}`,
    areas: (labels: string[]) => `Knowledge areas: ${labels.join(', ')}`,
    documents: (titles: string[]) => `Sources: ${titles.map((t) => `"${t}"`).join(', ')}`,
    sources: (titles: string[]) => `Sources: ${titles.map((t) => `"${t}"`).join(', ')}.`,
    fallbackDescription: (topic: string, title: string) => `${title} of ${topic}.`,
    focus: (topic: string, node: FocusNode) =>
      `${topic} from the angle of ${node.path.join(' > ')}.`,
    opening: (topic: string) => [
      {
        title: 'Overview',
        description: `Purpose and scope of the report on ${topic}, and a summary of its findings.`,
      },
      {
        title: 'Background and current state',
        description: `Where ${topic} comes from and where it stands today.`,
      },
    ],
    analysis: (topic: string) => ({
      title: 'Key analysis',
      description: `The main questions of ${topic} and the evidence on them.`,
    }),
    closing: (topic: string) => [
      {
        title: 'Implications',
        description: `What the findings mean for ${topic}: opportunities and risks.`,
      },
      {
        title: 'Conclusion and recommendations',
        description: 'Summary, open questions and next steps.',
      },
    ],
  },
} satisfies Record<Language, unknown>;

/** `{{topic}}`, `{topic}`, `{{주제}}` in a guide stand for the topic. */
function fillTopic(text: string, topic: string): string {
  return text.replace(/\{\{\s*(?:topic|주제)\s*\}\}|\{(?:topic|주제)\}/giu, topic);
}

/** The guide's own structure: its headings, else its lists; fewer than two is no structure. */
export function guideSections(
  promptSystem: string | null | undefined,
  topic: string,
): DraftSection[] {
  if (!promptSystem?.trim()) return [];
  const guide = fillTopic(promptSystem, topic);
  const byHeadings = sectionsFromHeadings(guide).filter((section) => section.title.trim());
  if (byHeadings.length >= 2) return byHeadings;
  const byLists = sectionsFromLists(guide).filter((section) => section.title.trim());
  return byLists.length >= 2 ? byLists : [];
}

/** Words for matching sections to documents: lower-case letters and digits, Korean particles dropped. */
export function terms(text: string): Set<string> {
  const out = new Set<string>();
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if ([...word].length < 2) continue;
    out.add(word);
    const stem = word.replace(
      /(?:은|는|이|가|을|를|의|에|와|과|도|로|으로|에서|에게|까지|부터)$/u,
      '',
    );
    if (stem !== word && [...stem].length >= 2) out.add(stem);
  }
  return out;
}

function overlap(a: Set<string>, b: Set<string>): number {
  let count = 0;
  for (const term of a) if (b.has(term)) count++;
  return count;
}

/** Each hit's document goes to the section it shares the most words with (ties: the earlier one). */
function assignSources(
  sections: readonly DraftSection[],
  hits: readonly KnowledgeHit[],
): string[][] {
  const sectionTerms = sections.map((section) => terms(`${section.title} ${section.description}`));
  const assigned = sections.map(() => [] as string[]);
  const seen = new Set<string>();
  for (const hit of hits) {
    if (seen.has(hit.documentId)) continue;
    seen.add(hit.documentId);
    const hitTerms = terms(`${hit.title} ${hit.content}`);
    let best = -1;
    let bestScore = 0;
    sectionTerms.forEach((candidate, index) => {
      const score = overlap(candidate, hitTerms);
      if (score > bestScore) {
        best = index;
        bestScore = score;
      }
    });
    if (best >= 0 && assigned[best]!.length < MAX_SOURCES_PER_SECTION)
      assigned[best]!.push(hit.title);
  }
  return assigned;
}

export function planLocally(context: PlanContext): Plan {
  const text = TEXT[context.language];
  const { topic, agent } = context;
  const fromGuide = guideSections(context.template?.promptSystem, topic).map((section) => ({
    title: section.title,
    description: section.description || text.fallbackDescription(topic, section.title),
  }));
  let drafts: DraftSection[];
  if (fromGuide.length) {
    drafts = fromGuide;
  } else {
    const focus = (agent?.focus ?? []).slice(0, MAX_FOCUS_SECTIONS);
    const middle = focus.length
      ? focus.map((node) => ({ title: node.label, description: text.focus(topic, node) }))
      : [text.analysis(topic)];
    drafts = [...text.opening(topic), ...middle, ...text.closing(topic)];
  }
  if (agent?.hits.length) {
    const sources = assignSources(drafts, agent.hits);
    drafts = drafts.map((draft, index) =>
      sources[index]!.length
        ? { ...draft, description: `${draft.description} ${text.sources(sources[index]!)}` }
        : draft,
    );
  }
  const sections = finishSections(drafts);
  const notes: string[] = [];
  if (context.template) notes.push(text.template(context.template.name));
  if (agent) {
    notes.push(text.agent(agent.name));
    if (agent.focus.length) notes.push(text.areas(agent.focus.map((node) => node.label)));
    const titles = [...new Set(agent.hits.map((hit) => hit.title))].slice(0, 5);
    if (titles.length) notes.push(text.documents(titles));
  }
  return { plan: renderPlan({ title: text.title(topic), notes }, sections), sections };
}
