// Official demo templates for the usual report kinds (market analysis, research
// summary, weekly status). Their promptSystem headings are what the local planner turns
// into a topic's sections. Created through the template service, then flagged official.
import type { Caller } from '../services/auth/caller.js';
import { createTemplate, setTemplateFlags } from '../services/templates/templates.js';

const DEMO_TEMPLATES = [
  {
    name: '시장 분석 보고서 (Market analysis)',
    description: 'Market size, trends, competitors and risks for {{topic}}.',
    tags: ['market', 'analysis', '시장'],
    featured: true,
    promptSystem: `# Market analysis guide

## Executive summary
The question, the answer, and the three numbers that matter.

## Market overview
Size, growth rate and segments of {{topic}}.

## Key trends
Technology, regulation and customer behaviour shaping the market.

## Competitive landscape
Main players, their positioning and share.

## Risks
Regulatory, cost, security and adoption risks.

## Recommendations
Concrete next steps with owners.`,
    content:
      '# {{title}}\n\nPrepared for {{audience}} on {{date}}.\n\n## Executive summary\n\n## Market overview\n',
  },
  {
    name: 'Research summary',
    description: 'A structured summary of research findings.',
    tags: ['research', 'summary'],
    featured: false,
    promptSystem: `# Research summary guide

## Background
Why the question matters and what was known before.

## Method
Sources, data and how they were analysed.

## Findings
The results, each with its evidence.

## Limitations
What the findings do not show.

## Implications
What to do or study next.`,
    content: '# {{title}}\n\nAuthor: {{author}}\n\n## Background\n\n## Findings\n',
  },
  {
    name: '주간 업무 보고 (Weekly status)',
    description: 'What happened this week, what is next, and what is blocked.',
    tags: ['status', 'weekly', '주간'],
    featured: false,
    promptSystem: `# Weekly status guide

## Highlights
The week's outcomes in three bullets.

## Progress
Work finished and work in flight, against the plan.

## Blockers
What is stuck and who can unblock it.

## Next week
Planned work and decisions needed.`,
    content: '# {{team}} weekly status, week {{week}}\n\n## Highlights\n\n## Blockers\n',
  },
];

export async function createDemoTemplates(owner: Caller): Promise<number> {
  for (const template of DEMO_TEMPLATES) {
    const created = await createTemplate(
      {
        name: template.name,
        description: template.description,
        category: 'RESEARCH',
        tags: template.tags,
        isPublic: true,
        promptSystem: template.promptSystem,
        content: template.content,
      },
      owner,
    );
    await setTemplateFlags(created.id, { isOfficial: true, isFeatured: template.featured }, owner);
  }
  return DEMO_TEMPLATES.length;
}
