// Plans as Markdown, both ways: sections are written as `## n. title` + description, and
// read back from the headings, so an edited plan (the user reviews and edits it
// before generating) gives its sections again. The same reading finds the structure of a
// template's promptSystem.
import { parseMarkdownBlocks, type MarkdownBlock } from '../export/markdown-blocks.js';
import { PLAN_LIMITS, type PlanSection } from './types.js';

export interface DraftSection {
  title: string;
  description: string;
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max
    ? text
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

/** `1.`, `2)`, `1.2` numbering in front of a title (added when plans are written). */
export function stripNumbering(title: string): string {
  return title.replace(/^(?:\d+(?:\.\d+)*[.)]|\d+(?:\.\d+)+)\s+/, '').trim();
}

/** Ordered, clipped, numbered from 1; untitled drafts dropped. */
export function finishSections(drafts: readonly DraftSection[]): PlanSection[] {
  return drafts
    .map((draft) => ({
      title: clip(collapse(stripNumbering(collapse(draft.title))), PLAN_LIMITS.title),
      description: clip(collapse(draft.description), PLAN_LIMITS.description),
    }))
    .filter((draft) => draft.title.length > 0)
    .slice(0, PLAN_LIMITS.sections)
    .map((draft, index) => ({ ...draft, order: index + 1 }));
}

function blockText(block: MarkdownBlock): string {
  return block.type === 'code' ? '' : block.text;
}

/**
 * Sections by heading: the shallowest heading level, except that a lone `#` title over
 * deeper headings is the document's title, not a section. Each section's description is
 * the text below its heading (paragraphs, list items, deeper headings).
 */
export function sectionsFromHeadings(markdown: string): DraftSection[] {
  const blocks = parseMarkdownBlocks(markdown);
  const headings = blocks.filter((block) => block.type === 'heading');
  if (headings.length === 0) return [];
  const levels = headings.map((heading) => heading.level);
  const h1 = levels.filter((level) => level === 1).length;
  const deeper = levels.filter((level) => level > 1);
  const level = h1 === 1 && deeper.length > 0 ? Math.min(...deeper) : Math.min(...levels);
  const sections: DraftSection[] = [];
  let current: { title: string; parts: string[] } | undefined;
  const close = () => {
    if (current)
      sections.push({ title: current.title, description: current.parts.filter(Boolean).join(' ') });
  };
  for (const block of blocks) {
    if (block.type === 'heading' && block.level <= level) {
      close();
      current = block.level === level ? { title: block.text, parts: [] } : undefined;
    } else if (current) {
      current.parts.push(blockText(block));
    }
  }
  close();
  return sections;
}

const ITEM_SPLIT = /^(.{1,80}?)\s*(?:[:：]|\s[-—–]\s)\s*(.+)$/u;

function splitItem(text: string): DraftSection {
  const match = ITEM_SPLIT.exec(collapse(text));
  const title = (match ? match[1]! : text).replace(/^\*\*|\*\*$/g, '');
  return { title, description: match ? match[2]! : '' };
}

/**
 * Sections by list: the top-level items of the numbered lists (else of the bullet
 * lists), `title: description` or `title - description`; nested items add to the
 * description of the item above them.
 */
export function sectionsFromLists(markdown: string): DraftSection[] {
  const items = parseMarkdownBlocks(markdown).filter((block) => block.type === 'listItem');
  const topOrdered = items.filter((item) => item.level === 0 && item.ordered).length;
  const ordered = topOrdered >= 2;
  const sections: DraftSection[] = [];
  let parentTaken = false;
  for (const item of items) {
    if (item.level === 0) {
      parentTaken = item.ordered === ordered;
      if (parentTaken) sections.push(splitItem(item.text));
    } else if (parentTaken && sections.length) {
      const last = sections.at(-1)!;
      last.description = [last.description, item.text].filter(Boolean).join(' ');
    }
  }
  return sections;
}

export interface PlanHeader {
  title: string;
  /** Lines shown as a list under the title (template, agent, sources). */
  notes: string[];
}

export function renderPlan(header: PlanHeader, sections: readonly PlanSection[]): string {
  const lines = [`# ${header.title}`, ''];
  if (header.notes.length) lines.push(...header.notes.map((note) => `- ${note}`), '');
  for (const section of sections) {
    lines.push(`## ${section.order}. ${section.title}`, '');
    if (section.description) lines.push(section.description, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The sections an (edited) plan describes: its `##` headings (see sectionsFromHeadings). */
export function sectionsFromPlan(plan: string): PlanSection[] {
  return finishSections(sectionsFromHeadings(plan));
}
