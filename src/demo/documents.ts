// The demo corpus: multi-paragraph documents generated from templates per domain, so that
// full-text search ("compliance", "vector index", "cash flow", "patient data") has ranked
// hits. Deterministic (seeded PRNG). Each document is classified into one or two leaves;
// the sparse areas and a few random leaves get few or no documents: coverage gaps.
import { KOREAN_AREA, SPARSE_AREAS, type DemoNode } from './taxonomy.js';

export interface DemoDocument {
  title: string;
  content: string;
  /** Keys of the taxonomy nodes it is classified into (1 or 2 leaves). */
  nodeKeys: string[];
  source: string;
}

/** mulberry32: a tiny seeded PRNG, so every start produces the same corpus. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DomainText {
  audience: string;
  teams: string[];
  paragraphs: string[];
}

const DOMAIN_TEXT: Record<string, DomainText> = {
  Technology: {
    audience: 'engineers and platform teams',
    teams: ['Platform', 'Data Engineering', 'SRE', 'ML Engineering', 'Security Engineering'],
    paragraphs: [
      'For {t}, the platform team standardised on a small set of building blocks: a managed ' +
        'PostgreSQL cluster, an object store for raw files, and a vector index for semantic ' +
        'retrieval. Every service exposes metrics for latency, error rate and saturation, and ' +
        'deployments go through the same CI/CD pipeline with automated tests and canary ' +
        'releases.',
      'Performance matters. We measured a p95 latency of {n}0 ms for typical {t} workloads ' +
        'after tuning the vector index (HNSW, m=16) and adding a read replica. Query plans are ' +
        'reviewed whenever a table grows past ten million rows, and slow queries are tracked ' +
        'on a shared observability dashboard.',
      'Security and reliability are part of the design, not an afterthought: secrets live in ' +
        'the vault, access follows least privilege, and each component has a runbook, an ' +
        'on-call rotation and a tested disaster recovery plan with a recovery time objective ' +
        'of {n} hours.',
      'When you change anything related to {t}, open an architecture decision record, ' +
        'describe the alternatives you considered (for example a managed service versus ' +
        'self-hosting on Kubernetes), and ask for a review from two engineers outside your ' +
        'team.',
      'Known pitfalls: embedding models drift when they are retrained, so re-index the ' +
        'vector store after each model release; schema migrations must stay backwards ' +
        'compatible; and feature flags should be removed within {n} sprints to avoid ' +
        'configuration debt.',
    ],
  },
  Finance: {
    audience: 'finance, treasury and controlling teams',
    teams: ['Treasury', 'FP&A', 'Controlling', 'Accounting Operations', 'Internal Audit'],
    paragraphs: [
      'Cash flow is the first thing we look at. For {t}, the treasury team maintains a ' +
        'thirteen-week cash flow forecast, reconciled weekly against actual bank balances, and ' +
        'escalates any variance above {n} percent to the CFO.',
      'Every process in {area} is subject to internal controls and compliance reviews. ' +
        'Journal entries above the approval threshold need a second signature, reconciliations ' +
        'are completed by the third working day after the month-end close, and evidence is ' +
        'kept for the external audit.',
      'Forecasting and budgeting follow a rolling cycle: business units submit their ' +
        'drivers, FP&A consolidates them into scenarios (base, upside, downside), and the ' +
        'results feed working capital planning, capital allocation and the quarterly board ' +
        'pack.',
      'Risk management for {t} covers credit risk, liquidity risk and foreign exchange ' +
        'exposure. Limits are set by the finance committee and monitored daily; any breach is ' +
        "documented together with the remediation plan and the compliance officer's sign-off.",
      'Key metrics: days sales outstanding, days payable outstanding, free cash flow, EBITDA ' +
        'margin and forecast accuracy. Targets for {year} were agreed in the annual planning ' +
        'round, and the dashboards refresh every night from the general ledger.',
    ],
  },
  Healthcare: {
    audience: 'clinicians, care coordinators and health informatics staff',
    teams: [
      'Clinical Informatics',
      'Care Operations',
      'Quality and Safety',
      'Pharmacy Services',
      'Population Health',
    ],
    paragraphs: [
      'Patient data is handled under strict privacy rules. For {t}, only the minimum ' +
        'necessary patient data is shared, every access to the electronic health record is ' +
        'logged, and exports for analytics are de-identified before they leave the clinical ' +
        'network.',
      'Clinical workflows come first: any change related to {t} is piloted on one ward, ' +
        'evaluated with nursing staff and physicians, and rolled out only after the quality ' +
        'and safety committee has reviewed the outcomes and the impact on patient safety.',
      'Interoperability relies on HL7 FHIR resources and standard terminologies (SNOMED CT, ' +
        'LOINC, ICD-10). Mapping tables are versioned, and data quality checks flag missing ' +
        'consent records, duplicate patient identifiers and inconsistent medication lists.',
      'Regulatory compliance includes HIPAA, GDPR for European patients and the requirements ' +
        'of the local health authority. Consent is recorded per purpose, retention periods are ' +
        'enforced automatically, and a breach involving patient data must be reported within ' +
        '72 hours.',
      'Outcome measures for {t}: readmission rate, average length of stay, time to treatment ' +
        'and patient-reported experience. The population health team reviews them monthly and ' +
        'publishes a short summary for care teams.',
    ],
  },
  Legal: {
    audience: 'legal counsel, compliance officers and contract managers',
    teams: ['Legal Operations', 'Compliance', 'Privacy Office', 'Commercial Legal', 'IP Counsel'],
    paragraphs: [
      'Compliance is a shared responsibility. For {t}, the compliance team keeps a register ' +
        'of applicable regulations, assigns an owner to each obligation, and tests the related ' +
        'controls at least once a year, with findings tracked to closure.',
      'Contracts touching {t} must use the approved clause library. Deviations from standard ' +
        'terms on liability, indemnity, data protection or governing law require a review by ' +
        'legal counsel before signature, and signed contracts are stored in the contract ' +
        'lifecycle management system.',
      'Data privacy obligations under GDPR and similar laws apply: we document the lawful ' +
        'basis for processing, run privacy impact assessments for new processing activities, ' +
        'and answer data subject requests within 30 days.',
      'Regulatory change is monitored continuously. When a new regulation or guidance ' +
        'affects {t}, the compliance officer assesses the impact, updates policies and ' +
        'training, and reports the status to the risk committee every quarter.',
      'Records and evidence: keep emails, approvals and versions of policies for the ' +
        'retention period defined in the records schedule. When litigation is anticipated, a ' +
        'legal hold suspends deletion and eDiscovery collects the relevant documents.',
    ],
  },
  Operations: {
    audience: 'operations managers, buyers and support leads',
    teams: ['Supply Chain', 'Procurement', 'Workplace', 'Customer Support', 'People Operations'],
    paragraphs: [
      'Service levels are explicit. For {t}, each process has an owner, a documented SLA and ' +
        'a weekly review of the metrics: on-time delivery, first response time, backlog age ' +
        'and customer satisfaction.',
      'Supply chain resilience starts with demand planning and supplier management. We keep ' +
        'safety stock for critical items, qualify at least two suppliers for each strategic ' +
        'category, and review vendor performance with a quarterly scorecard.',
      'Procurement follows a standard sequence: requisition, sourcing, purchase order, goods ' +
        'receipt and invoice matching. Spend above {n}0,000 EUR requires a competitive tender ' +
        'and the approval of the category manager.',
      'Continuous improvement: incidents and escalations related to {t} are analysed in a ' +
        'blameless root cause analysis, and improvement actions stay on the operations board ' +
        'until they are verified.',
      'Onboarding new colleagues into {area}: shadow an experienced team member for two ' +
        'weeks, read the standard operating procedures, and complete the workplace safety and ' +
        'data protection training before handling live work.',
    ],
  },
  Research: {
    audience: 'researchers, data scientists and product managers',
    teams: ['Applied Research', 'Research Operations', 'Insights', 'Strategy', 'AI Lab'],
    paragraphs: [
      'Our research on {t} is organised as short experiments with a written hypothesis, a ' +
        'dataset card and a pre-registered evaluation. Results, including negative ones, go ' +
        'into the experiment tracker so that they can be reproduced later.',
      'Retrieval-augmented generation is the pattern we use most: documents are chunked, ' +
        'embedded and stored in a vector index, and a large language model answers questions ' +
        'grounded in the retrieved passages. Evaluation benchmarks measure faithfulness, ' +
        'relevance and latency.',
      'Literature reviews for {t} start from a search of recent papers and preprints, ' +
        'summarised in a shared reading list. Each summary states the claim, the evidence, the ' +
        'limitations, and whether the result matters for our products.',
      'Research ethics and reproducibility: human-subject studies need the approval of the ' +
        'ethics board, datasets must have a clear licence and consent, and every published ' +
        'result comes with code, configuration and a fixed random seed.',
      'Market and user research complement the technical work: interviews, surveys and ' +
        'competitive analysis help decide which {t} ideas are worth turning into products and ' +
        'which should stay in the lab.',
    ],
  },
};

const INTROS = [
  'This {kind} covers {topic} in the {area} area of {domain}. It was written by the {team} ' +
    'team for {audience} and reflects how we work in {year}. Read it before starting any work ' +
    'that touches {t}.',
  '{topic} is one of the recurring themes in {parent}. This {kind} collects what the {team} ' +
    'team has learned, the decisions we made and the questions that are still open, so that ' +
    'new colleagues do not have to rediscover them.',
  'Summary: our approach to {topic} has changed over the last {n} quarters. This {kind} ' +
    'explains the current practice, why it exists, and how it connects to the rest of {area}.',
  'Audience: {audience}. Scope: {path}. Status: this {kind} was reviewed in {quarter} {year} ' +
    'by the {team} team; the next review is due in two quarters.',
];

const CLOSINGS = [
  'Owner: the {team} team. Questions go to the #{channel} channel. Last reviewed in ' +
    '{quarter} {year}; related pages are listed under {parent}.',
  'Next steps: agree on the open actions in the next {area} sync, update this page when ' +
    'decisions change, and link new material about {t} here so that coverage stays complete.',
  'Checklist: confirm the scope, check compliance with the relevant policies, document the ' +
    'decisions, and share the outcome with the stakeholders in {domain}.',
];

// [title pattern, what the intro calls it]
const KINDS: Array<[string, string]> = [
  ['A Practical Guide to {topic}', 'guide'],
  ['{topic} Playbook', 'playbook'],
  ['Lessons Learned: {topic}', 'retrospective'],
  ['{topic}: Frequently Asked Questions', 'FAQ'],
  ['{topic} Policy Summary', 'policy summary'],
  ['{quarter} {year} Review: {topic}', 'quarterly review'],
  ['{topic} Checklist for New Team Members', 'checklist'],
  ['Architecture Notes on {topic}', 'architecture note'],
  ['How We Approach {topic}', 'overview'],
  ['{topic}: Common Pitfalls', 'note on pitfalls'],
  ['{topic} Metrics and Targets', 'metrics page'],
  ['Decision Record: {topic}', 'decision record'],
];

// Korean documents for the Korean area (UTF-8 end to end). "인공지능" stands alone so
// that full-text search (whitespace-separated for Hangul) finds it.
const KOREAN_KINDS: Array<[string, string]> = [
  ['{topic} 도입 가이드', '가이드'],
  ['{topic} 현황 보고서', '보고서'],
  ['{topic} 자주 묻는 질문', '질의응답 문서'],
  ['{topic} 사례 연구', '사례 연구'],
];
const KOREAN_TEAMS = ['데이터 플랫폼', 'AI 연구', '정보보호', '디지털 전략'];
const KOREAN_INTRO =
  '이 문서는 {topic} 분야의 핵심 개념과 사내 적용 사례를 정리한 {kind}입니다. {team} 팀이 작성했으며 분기마다 내용을 검토합니다.';
export const KOREAN_AI_SENTENCE =
  '인공지능 기술은 빠르게 발전하고 있으며, 우리 조직은 {topic} 업무에서 데이터 품질과 보안을 가장 중요하게 생각합니다.';
const KOREAN_PARAGRAPHS = [
  '개인정보 보호 규정을 준수하기 위해 모든 개인 데이터는 암호화되어 저장되며, 접근 권한은 최소 권한 원칙에 따라 부여됩니다. 접근 기록은 매월 점검합니다.',
  '클라우드 전환 이후 인프라 비용과 운영 방식이 크게 달라졌습니다. {topic} 관련 서비스는 자동 확장과 모니터링을 기본으로 사용합니다.',
  '디지털 금융 서비스와 연계하기 위해 표준 API와 감사 로그를 제공합니다. 규제 기관의 요구 사항을 반영하여 보고서를 매월 작성합니다.',
];
const KOREAN_CLOSING =
  '다음 단계: {topic} 성과 지표를 정의하고 담당자, 일정, 예산을 확정합니다. 문의 사항은 {team} 팀에 연락해 주세요.';

const SOURCES = [
  'https://wiki.example.com/spaces',
  'https://drive.example.com/docs',
  'https://sharepoint.example.com/sites',
  'https://notion.example.com/pages',
];
const QUARTERS = ['Q1', 'Q2', 'Q3', 'Q4'];

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** A seeded random source and the draws the documents are made with (the same sequence every time). */
function dice(seed: number) {
  const random = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const shuffled = <T>(items: readonly T[]): T[] =>
    items
      .map((item) => [random(), item] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, item]) => item);
  return { random, int, pick, shuffled };
}
type Dice = ReturnType<typeof dice>;

/**
 * How many documents each leaf gets: 0-1 in sparse areas, 3 in the Korean area, otherwise
 * 2-10 with an occasional empty leaf (a gap).
 */
function documentCounts(leaves: readonly DemoNode[], { random, int }: Dice): Map<string, number> {
  const counts = new Map<string, number>();
  for (const leaf of leaves) {
    const area = leaf.path[1]!;
    const count = SPARSE_AREAS.has(area)
      ? random() < 0.35
        ? 1
        : 0
      : area === KOREAN_AREA
        ? 3
        : random() < 0.08
          ? 0
          : int(2, 10);
    counts.set(leaf.key, count);
  }
  return counts;
}

const areaKeyOf = (leaf: DemoNode) => leaf.key.split('/').slice(0, 2).join('/');

/** The populated leaves of each (non-sparse) area: where a document may also be filed. */
function populatedByArea(
  leaves: readonly DemoNode[],
  counts: Map<string, number>,
): Map<string, DemoNode[]> {
  const byArea = new Map<string, DemoNode[]>();
  for (const leaf of leaves) {
    if (!counts.get(leaf.key) || SPARSE_AREAS.has(leaf.path[1]!)) continue;
    byArea.set(areaKeyOf(leaf), [...(byArea.get(areaKeyOf(leaf)) ?? []), leaf]);
  }
  return byArea;
}

/** The title and paragraphs of a leaf's i-th document (`kindOffset`: where its kinds start). */
function documentText(
  leaf: DemoNode,
  i: number,
  kindOffset: number,
  d: Dice,
): { title: string; content: string } {
  const [domain, area] = leaf.path as [string, string];
  const korean = area === KOREAN_AREA;
  const text = DOMAIN_TEXT[domain]!;
  const vars: Record<string, string> = {
    topic: leaf.label,
    t: leaf.label.toLowerCase(),
    area,
    domain,
    parent: leaf.path.at(-2)!,
    path: leaf.path.join(' > '),
    audience: text.audience,
    team: korean ? d.pick(KOREAN_TEAMS) : d.pick(text.teams),
    year: String(2023 + d.int(0, 2)),
    quarter: d.pick(QUARTERS),
    n: String(d.int(2, 9)),
    channel: leaf.key.split('/').slice(1, 3).join('-'),
  };
  let paragraphs: string[];
  if (korean) {
    vars.kind = KOREAN_KINDS[i % KOREAN_KINDS.length]![1];
    paragraphs = [
      KOREAN_INTRO,
      KOREAN_AI_SENTENCE,
      ...d.shuffled(KOREAN_PARAGRAPHS).slice(0, 2),
      KOREAN_CLOSING,
    ];
  } else {
    vars.kind = KINDS[(kindOffset + i) % KINDS.length]![1];
    // Three or four of the domain's five paragraphs, in a shuffled order.
    const body = d.shuffled(text.paragraphs).slice(0, d.int(3, 4));
    paragraphs = [d.pick(INTROS), ...body, d.pick(CLOSINGS)];
  }
  const titlePattern = korean
    ? KOREAN_KINDS[i % KOREAN_KINDS.length]![0]
    : KINDS[(kindOffset + i) % KINDS.length]![0];
  return {
    title: fill(titlePattern, vars),
    content: paragraphs.map((p) => fill(p, vars)).join('\n\n'),
  };
}

/** The demo documents for the demo taxonomy, always the same ones. */
export function buildDemoDocuments(nodes: readonly DemoNode[], seed = 20240501): DemoDocument[] {
  const d = dice(seed);
  const leaves = nodes.filter((n) => n.isLeaf);
  const counts = documentCounts(leaves, d);
  const byArea = populatedByArea(leaves, counts);
  const documents: DemoDocument[] = [];
  for (const leaf of leaves) {
    const korean = leaf.path[1] === KOREAN_AREA;
    const kindOffset = d.int(0, KINDS.length - 1);
    for (let i = 0; i < counts.get(leaf.key)!; i++) {
      const { title, content } = documentText(leaf, i, kindOffset, d);
      // About a third are also filed under a second populated leaf of the same area.
      const nodeKeys = [leaf.key];
      const siblings = (byArea.get(areaKeyOf(leaf)) ?? []).filter((n) => n.key !== leaf.key);
      if (!korean && siblings.length && d.random() < 0.3) nodeKeys.push(d.pick(siblings).key);
      documents.push({
        title,
        content,
        nodeKeys,
        source: `${d.pick(SOURCES)}/${leaf.key}/${i + 1}`,
      });
    }
  }
  return documents;
}
