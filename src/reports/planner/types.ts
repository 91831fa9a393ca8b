// What a planner reads and writes.

export interface PlanSection {
  title: string;
  description: string;
  /** 1-based. */
  order: number;
}

export type Language = 'ko' | 'en';

/** A retrieved chunk: what the agent knows about the topic. */
export interface KnowledgeHit {
  documentId: string;
  title: string;
  content: string;
  score: number;
}

/** A taxonomy node of the agent's scope the topic touches, with the documents found under it. */
export interface FocusNode {
  label: string;
  path: string[];
  documentTitles: string[];
}

export interface PlanContext {
  /** Trimmed, 1-200 characters. */
  topic: string;
  language: Language;
  template: { name: string; promptSystem: string | null } | null;
  agent: { name: string; focus: FocusNode[]; hits: KnowledgeHit[] } | null;
}

export type PlannerName = 'local' | 'openai' | 'anthropic';

export interface Plan {
  /** Markdown: a title, then one `##` heading per section with its description. */
  plan: string;
  sections: PlanSection[];
}

export interface PlanOutcome extends Plan {
  planner: PlannerName;
  /** An LLM planner was configured but missed the budget or failed: the local plan instead. */
  fellBack: boolean;
}

export const PLAN_LIMITS = { sections: 20, title: 200, description: 1_000 } as const;

export const languageOf = (text: string): Language =>
  /\p{Script=Hangul}/u.test(text) ? 'ko' : 'en';
