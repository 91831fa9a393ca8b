// The demo taxonomy "Enterprise Knowledge": domains > areas > topics > subtopics (4 levels),
// generated from the compact lists below. A topic is 'Label' or 'Label|Sub one;Sub two'.
// Keys are the slugged path (`technology/data-platform/vector-databases`).
import type { TaxonomyNodeInput } from '../services/taxonomy/taxonomy.js';

export const DEMO_TAXONOMY_NAME = 'Enterprise Knowledge';

interface DomainSpec {
  label: string;
  areas: Record<string, string[]>;
}

const DOMAINS: DomainSpec[] = [
  {
    label: 'Technology',
    areas: {
      'Machine Learning': [
        'Supervised Learning|Classification;Regression',
        'Deep Learning|Convolutional Networks;Transformers',
        'MLOps|Model Registry;Feature Stores;Model Monitoring',
        'Natural Language Processing|Named Entity Recognition;Text Classification',
        'Reinforcement Learning|Reward Design;Simulation Environments',
      ],
      'Data Platform': [
        'Data Warehousing|Dimensional Modeling;Query Optimization',
        'Vector Databases|Vector Index Tuning;Embedding Pipelines',
        'Streaming|Kafka Operations;Change Data Capture',
        'Data Quality|Data Contracts;Anomaly Detection',
        'Data Catalog|Metadata Management;Data Lineage',
      ],
      'Cloud Infrastructure': [
        'Kubernetes|Cluster Autoscaling;Service Mesh',
        'Infrastructure as Code|Terraform Modules;Policy as Code',
        'Cloud Cost Management|Reserved Capacity;Cost Allocation Tags',
        'Networking|DNS;Load Balancing',
        'Disaster Recovery|Backup Policies;Failover Drills',
      ],
      Security: [
        'Identity and Access Management|Single Sign-On;Privileged Access',
        'Application Security|Threat Modeling;Dependency Scanning',
        'Incident Response|On-call Runbooks;Postmortems',
        'Vulnerability Management',
        'Encryption|Key Management;TLS Certificates',
      ],
      'Software Engineering': [
        'API Design|GraphQL Schemas;REST Guidelines',
        'Testing Strategy|Contract Testing;Load Testing',
        'CI/CD|Release Management;Feature Flags',
        'Code Review',
        'Observability|Distributed Tracing;Alerting',
      ],
    },
  },
  {
    label: 'Finance',
    areas: {
      'Corporate Finance': [
        'Budgeting|Annual Planning;Rolling Forecasts',
        'Capital Allocation',
        'Mergers and Acquisitions|Due Diligence;Post-merger Integration',
        'Valuation|Discounted Cash Flow;Comparable Companies',
      ],
      Treasury: [
        'Cash Management|Cash Flow Forecasting;Liquidity Planning',
        'Foreign Exchange|Hedging Strategy;Currency Exposure',
        'Banking Relationships',
        'Debt Financing|Covenant Monitoring;Credit Facilities',
      ],
      Accounting: [
        'General Ledger|Month-end Close;Account Reconciliations',
        'Revenue Recognition|Contract Revenue;Subscription Billing',
        'Accounts Payable|Invoice Processing;Vendor Payments',
        'Accounts Receivable|Collections;Credit Notes',
        'Fixed Assets',
      ],
      'Financial Risk and Compliance': [
        'Internal Controls|SOX Testing;Segregation of Duties',
        'Credit Risk',
        'Market Risk',
        'Anti-Money Laundering|Transaction Monitoring;Know Your Customer',
        'Audit Readiness',
      ],
      'Financial Planning and Analysis': [
        'Variance Analysis',
        'KPI Dashboards',
        'Scenario Modeling|Sensitivity Analysis;Stress Testing',
        'Unit Economics|Customer Lifetime Value;Customer Acquisition Cost',
      ],
    },
  },
  {
    label: 'Healthcare',
    areas: {
      'Clinical Operations': [
        'Patient Intake',
        'Care Coordination|Discharge Planning;Referral Management',
        'Clinical Trials|Trial Design;Patient Recruitment',
        'Nursing Workflows',
      ],
      'Health Informatics': [
        'Electronic Health Records|EHR Integration;Clinical Documentation',
        'Interoperability|HL7 FHIR;Terminology Mapping',
        'Patient Data Privacy|De-identification;Consent Management',
        'Clinical Decision Support|Sepsis Alerts;Order Sets',
      ],
      'Medical Devices': [
        'Device Regulation|FDA Submissions;CE Marking',
        'Post-market Surveillance',
        'Software as a Medical Device',
      ],
      'Population Health': [
        'Epidemiology|Disease Surveillance;Outbreak Response',
        'Preventive Care',
        'Health Equity',
        'Chronic Disease Management|Diabetes Programs;Cardiovascular Care',
      ],
      Pharmacy: [
        'Formulary Management',
        'Medication Safety|Adverse Drug Events;Medication Reconciliation',
        'Drug Supply Chain',
      ],
    },
  },
  {
    label: 'Legal',
    areas: {
      'Regulatory Compliance': [
        'Compliance Programs|Policy Management;Compliance Training',
        'Regulatory Change Management|Horizon Scanning;Regulatory Impact Assessment',
        'Sanctions Screening',
        'ESG Reporting|Carbon Accounting;Supplier Due Diligence',
      ],
      'Data Privacy': [
        'GDPR|Data Subject Requests;Records of Processing',
        'Cross-border Data Transfers',
        'Privacy Impact Assessments',
        'Cookie Consent',
      ],
      Contracts: [
        'Contract Lifecycle Management|Clause Library;Contract Review',
        'Procurement Contracts',
        'Licensing|Open Source Licensing;Software Licensing',
        'Non-disclosure Agreements',
      ],
      'Intellectual Property': [
        'Patents|Patent Filing;Prior Art Search',
        'Trademarks|Brand Protection;Domain Disputes',
        'Trade Secrets',
      ],
      Litigation: ['eDiscovery|Legal Hold;Document Review', 'Dispute Resolution', 'Employment Law'],
    },
  },
  {
    label: 'Operations',
    areas: {
      'Supply Chain': [
        'Demand Planning|Forecast Accuracy;Seasonality',
        'Inventory Management|Safety Stock;Cycle Counting',
        'Logistics|Last-mile Delivery;Freight Procurement',
        'Supplier Management|Supplier Scorecards;Supplier Risk',
      ],
      Procurement: [
        'Sourcing Strategy',
        'Vendor Onboarding',
        'Spend Analysis|Spend Categories;Savings Tracking',
        'Purchase Orders',
      ],
      // Deliberately sparse in the demo corpus: the "gaps" agent looks here.
      'Facilities Management': [
        'Workplace Safety',
        'Energy Efficiency',
        'Space Planning',
        'Maintenance Scheduling|Preventive Maintenance;Work Orders',
      ],
      'Customer Support': [
        'Ticket Triage',
        'Knowledge Base|Article Templates;Self-service Deflection',
        'Service Level Agreements',
        'Escalation Management',
      ],
      'Human Resources': [
        'Recruiting|Interview Guides;Job Descriptions',
        'Employee Onboarding',
        'Performance Reviews',
        'Compensation|Salary Bands;Equity Plans',
        'Learning and Development|Leadership Programs;Skills Matrix',
      ],
    },
  },
  {
    label: 'Research',
    areas: {
      'Applied AI Research': [
        'Large Language Models|Retrieval-Augmented Generation;Evaluation Benchmarks;Fine-tuning',
        'Computer Vision|Object Detection;Image Segmentation',
        'Multimodal Models',
        'AI Safety|Red Teaming;Alignment',
      ],
      'Market Research': [
        'Competitive Analysis|Pricing Benchmarks;Feature Comparisons',
        'Customer Surveys',
        'Market Sizing',
        'User Interviews',
      ],
      'Research Operations': [
        'Experiment Tracking|Hyperparameter Logs;Metric Dashboards',
        'Reproducibility',
        'Research Ethics',
        'Literature Reviews',
      ],
      // Deliberately sparse too.
      'Emerging Technology': [
        'Quantum Computing',
        'Edge Computing',
        'Digital Twins',
        'Synthetic Biology',
      ],
      // Korean sources: labels and documents in Korean.
      '한국어 자료': [
        '인공지능|자연어 처리;컴퓨터 비전',
        '개인정보 보호',
        '클라우드 전환',
        '디지털 금융',
      ],
    },
  },
];

/** Areas whose leaves get at most one document: coverage gaps on purpose. */
export const SPARSE_AREAS = new Set(['Facilities Management', 'Emerging Technology']);
/** The area whose documents are written in Korean. */
export const KOREAN_AREA = '한국어 자료';

// Korean labels have no ASCII slug: their key segments are given here.
const KEY_SEGMENTS: Record<string, string> = {
  '한국어 자료': 'korean-sources',
  인공지능: 'ai',
  '자연어 처리': 'nlp',
  '컴퓨터 비전': 'computer-vision',
  '개인정보 보호': 'privacy',
  '클라우드 전환': 'cloud-migration',
  '디지털 금융': 'digital-finance',
};

export function slug(label: string): string {
  return (
    KEY_SEGMENTS[label] ??
    label
      .toLowerCase()
      .replace(/&/g, 'and')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
  );
}

/** A node of the demo tree, with what the document generator needs to know about it. */
export interface DemoNode extends TaxonomyNodeInput {
  parentKey: string | null;
  depth: number;
  /** Labels from the root down, this node included. */
  path: string[];
  isLeaf: boolean;
}

export function buildDemoTaxonomy(): DemoNode[] {
  const nodes: DemoNode[] = [];
  const add = (label: string, parent: DemoNode | null, isLeaf: boolean) => {
    const node: DemoNode = {
      key: parent ? `${parent.key}/${slug(label)}` : slug(label),
      label,
      parentKey: parent?.key ?? null,
      depth: parent ? parent.depth + 1 : 0,
      path: [...(parent?.path ?? []), label],
      isLeaf,
    };
    nodes.push(node);
    return node;
  };
  for (const domain of DOMAINS) {
    const root = add(domain.label, null, false);
    for (const [areaLabel, topics] of Object.entries(domain.areas)) {
      const area = add(areaLabel, root, false);
      for (const spec of topics) {
        const [topicLabel, subs] = spec.split('|') as [string, string | undefined];
        const subtopics = subs ? subs.split(';') : [];
        const topic = add(topicLabel, area, subtopics.length === 0);
        for (const sub of subtopics) add(sub, topic, true);
      }
    }
  }
  return nodes;
}
