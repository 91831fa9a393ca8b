// The words the generated corpus names things with (bench/generate.ts): the taxonomy's roots
// ("Science"), the topics of the nodes below them ("Markets 3.1"), and the areas and teams of
// agent names ("Agent 123456 research ops").

export const ROOT_LABELS = [
  'Science',
  'Engineering',
  'Finance',
  'Health',
  'Law',
  'Education',
  'Energy',
  'Climate',
  'Computing',
  'Culture',
];

export const TOPIC_WORDS = [
  'foundations',
  'methods',
  'markets',
  'systems',
  'policy',
  'operations',
  'research',
  'practice',
  'history',
  'tools',
  'standards',
  'safety',
  'economics',
  'design',
  'analytics',
  'governance',
  'education',
  'infrastructure',
  'ethics',
  'trends',
];

export const AGENT_AREAS = [
  'research',
  'sales',
  'legal',
  'finance',
  'support',
  'marketing',
  'security',
  'data',
  'product',
  'clinical',
  'energy',
  'climate',
  'education',
  'hr',
  'procurement',
  'logistics',
  'compliance',
  'risk',
  'design',
  'platform',
];
export const AGENT_TEAMS = [
  'ops',
  'insights',
  'assistant',
  'analyst',
  'review',
  'triage',
  'planner',
  'scout',
  'writer',
  'auditor',
];
