// Pins and diffs: renders and plans follow a recorded version (the topic records
// which), templateDiff shows what changed between two versions with jsdiff's unified diff,
// and another user reaches none of a private template's versions.
import { applyPatch } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { templateHelpers, unique } from '../utils/templates.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const { mintKey, createTemplate, updateTemplate } = templateHelpers(h);

const RENDER = `mutation($id: ID!, $variables: JSON!, $version: Int) {
  renderTemplate(id: $id, variables: $variables, version: $version) { content version template { usageCount } } }`;
const PLAN = `mutation($input: PlanTopicInput!) { planTopic(input: $input) {
  sections { title } topic { id templateVersion template { id } } } }`;
const DIFF = `query($id: ID!, $from: Int!, $to: Int!) {
  templateDiff(id: $id, fromVersion: $from, toVersion: $to) { unified variablesAdded variablesRemoved changelog } }`;

beforeAll(async () => {
  await h.configureLlm({ planRateLimitPerMinute: 1_000 });
});

async function diff(id: string, from: number, to: number, key?: string) {
  const response = await h.gql(DIFF, { id, from, to }, key);
  expect(response.errors).toBeUndefined();
  return response.data.templateDiff;
}

describe('renderTemplate(version)', () => {
  it('renders a pinned version and counts the use; an unknown version is NOT_FOUND and no use', async () => {
    const { id } = await createTemplate({ content: 'Hello {{name}}' });
    await updateTemplate(id, { content: 'Bye {{name}}, see you {{when}}' });

    const pinned = await h.gql(RENDER, { id, variables: { name: 'Ann' }, version: 1 });
    expect(pinned.errors).toBeUndefined();
    expect(pinned.data.renderTemplate).toEqual({
      content: 'Hello Ann',
      version: 1,
      template: { usageCount: 1 },
    });
    // The current version needs `when`, which version 1 did not.
    expect(errorCodes(await h.gql(RENDER, { id, variables: { name: 'Ann' } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const current = await h.gql(RENDER, { id, variables: { name: 'Ann', when: 'soon' } });
    expect(current.data.renderTemplate).toMatchObject({
      content: 'Bye Ann, see you soon',
      version: 2,
    });
    for (const version of [0, 3, -5]) {
      const unknown = await h.gql(RENDER, { id, variables: { name: 'Ann' }, version });
      expect(errorCodes(unknown), String(version)).toEqual(['NOT_FOUND']);
    }
    const row = await db().template.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(row.usageCount).toBe(2);
  });
});

describe('planTopic(templateVersion)', () => {
  it("follows the pinned version's promptSystem and records the version each topic followed", async () => {
    const key = await mintKey('pin-planner');
    const { id } = await createTemplate({ promptSystem: '## Alpha\n## Beta' }, key);
    await updateTemplate(id, { promptSystem: '## Gamma\n## Delta\n## Epsilon' }, key);

    const pinned = await h.gql(
      PLAN,
      { input: { topic: 'pinned plan', templateId: id, templateVersion: 1 } },
      key,
    );
    expect(pinned.errors).toBeUndefined();
    expect(pinned.data.planTopic.sections.map((s: any) => s.title)).toEqual(['Alpha', 'Beta']);
    expect(pinned.data.planTopic.topic).toMatchObject({ templateVersion: 1, template: { id } });

    const current = await h.gql(PLAN, { input: { topic: 'current plan', templateId: id } }, key);
    expect(current.data.planTopic.sections.map((s: any) => s.title)).toEqual([
      'Gamma',
      'Delta',
      'Epsilon',
    ]);
    expect(current.data.planTopic.topic.templateVersion).toBe(2);
    const stored = await db().topic.findUniqueOrThrow({
      where: { id: rowId(current.data.planTopic.topic.id) },
    });
    expect(stored.templateVersion).toBe(2);

    const none = await h.gql(PLAN, { input: { topic: 'no template' } }, key);
    expect(none.data.planTopic.topic.templateVersion).toBeNull();

    const before = await db().topic.count();
    const unknown = await h.gql(
      PLAN,
      { input: { topic: 'unknown version', templateId: id, templateVersion: 3 } },
      key,
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
    const orphan = await h.gql(PLAN, { input: { topic: 'no id', templateVersion: 1 } }, key);
    expect(errorCodes(orphan)).toEqual(['BAD_USER_INPUT']);
    expect(await db().topic.count()).toBe(before);
  });
});

describe('templateDiff', () => {
  it('gives the unified diff, variables added and removed, and the changelogs in between', async () => {
    const { id } = await createTemplate({
      content: 'line one {{a}}\nline two {{b}}\nline three\n',
      promptSystem: 'guide A',
    });
    await updateTemplate(id, {
      content: 'line one {{a}}\nline 2 {{c}}\nline three\n',
      changelog: 'c replaces b',
    });
    await updateTemplate(id, { promptSystem: 'guide B', changelog: 'new guide' });
    await updateTemplate(id, { name: unique('renamed') });

    const forward = await diff(id, 1, 4);
    expect(forward.variablesAdded).toEqual(['c']);
    expect(forward.variablesRemoved).toEqual(['b']);
    expect(forward.changelog).toEqual(['c replaces b', 'new guide']);
    expect(forward.unified).toContain('--- content\tversion 1\n+++ content\tversion 4\n');
    expect(forward.unified).toContain('\n-line two {{b}}\n+line 2 {{c}}\n');
    expect(forward.unified).toContain('--- promptSystem\tversion 1\n+++ promptSystem\tversion 4\n');
    expect(forward.unified).toContain('\n-guide A\n');
    expect(forward.unified).toContain('\n+guide B\n');

    // Only the content changed from 1 to 2: one file section, which jsdiff applies back.
    const contentOnly = await diff(id, 1, 2);
    expect(contentOnly.unified).not.toContain('promptSystem');
    expect(applyPatch('line one {{a}}\nline two {{b}}\nline three\n', contentOnly.unified)).toBe(
      'line one {{a}}\nline 2 {{c}}\nline three\n',
    );

    // Reverse: how to go back, undoing the newest change first.
    const reverse = await diff(id, 4, 1);
    expect(reverse.variablesAdded).toEqual(['b']);
    expect(reverse.variablesRemoved).toEqual(['c']);
    expect(reverse.changelog).toEqual(['new guide', 'c replaces b']);
    expect(reverse.unified).toContain('\n-line 2 {{c}}\n+line two {{b}}\n');

    const same = await diff(id, 3, 4);
    expect(same).toMatchObject({ variablesAdded: [], variablesRemoved: [], changelog: [] });
    expect(same.unified).not.toContain('@@');
  });

  it('diffs two wholly different long texts as a patch that applies', async () => {
    const before = Array.from({ length: 3_000 }, (_, i) => `old line ${i}`).join('\n');
    const after = Array.from({ length: 3_000 }, (_, i) => `new line ${i}`).join('\n');
    const { id } = await createTemplate({ content: before });
    await updateTemplate(id, { content: after });
    const { unified } = await diff(id, 1, 2);
    expect(applyPatch(before, unified)).toBe(after);
    expect(applyPatch(after, (await diff(id, 2, 1)).unified)).toBe(before);
  });

  it('is NOT_FOUND for an unknown version or template', async () => {
    const { id } = await createTemplate({ content: 'x' });
    for (const [from, to] of [
      [1, 2],
      [0, 1],
      [1, -1],
    ]) {
      const response = await h.gql(DIFF, { id, from, to });
      expect(errorCodes(response), `${from}→${to}`).toEqual(['NOT_FOUND']);
    }
    expect(errorCodes(await h.gql(DIFF, { id: 'bogus', from: 1, to: 1 }))).toEqual(['NOT_FOUND']);
  });
});

describe('versions of a private template', () => {
  it('gives another user none of them: null through template and node, NOT_FOUND through diffs, renders and plans', async () => {
    const alice = await mintKey('pin-alice');
    const bob = await mintKey('pin-bob');
    const { id } = await createTemplate(
      { isPublic: false, content: 'alice-secret {{x}}', promptSystem: '## Secret' },
      alice,
    );
    await updateTemplate(id, { content: 'alice-secret v2 {{x}}' }, alice);
    const fields =
      'versions { totalCount edges { node { content } } } versionAt(version: 1) { content }';

    const read = await h.gql(
      `query($id: ID!) { template(id: $id) { ${fields} } node(id: $id) { ... on Template { ${fields} } } }`,
      { id },
      bob,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({ template: null, node: null });
    const attempts = [
      h.gql(DIFF, { id, from: 1, to: 2 }, bob),
      h.gql(RENDER, { id, variables: { x: 1 }, version: 1 }, bob),
      h.gql(PLAN, { input: { topic: 'peek', templateId: id, templateVersion: 1 } }, bob),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(errorCodes(response)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(response)).not.toContain('alice-secret');
    }
    // Alice herself reads them.
    expect((await diff(id, 1, 2, alice)).unified).toContain('+alice-secret v2 {{x}}');
  });
});

describe('versions of a template published later', () => {
  it('stay its team’s when recorded while it was private: others read only the public ones', async () => {
    const alice = await mintKey('pub-alice');
    const bob = await mintKey('pub-bob');
    const { id } = await createTemplate({ content: 'alice-draft {{x}}' }, alice);
    await updateTemplate(id, { content: 'alice-draft v2 {{x}}', changelog: 'draft-note' }, alice);
    await updateTemplate(
      id,
      { isPublic: true, content: 'Public {{x}}', changelog: 'published' },
      alice,
    );
    await updateTemplate(id, { content: 'Public v4 {{x}}', changelog: 'polished' }, alice);
    const fields = `versions { totalCount edges { node { version content changelog } } }
      versionAt(version: 2) { content } current: versionAt(version: 3) { content }`;
    const read = async (key?: string) =>
      (await h.gql(`query($id: ID!) { template(id: $id) { ${fields} } }`, { id }, key)).data
        .template;

    const seen = await read(bob);
    expect(seen.versions.totalCount).toBe(2);
    expect(seen.versions.edges.map((e: any) => e.node.version)).toEqual([4, 3]);
    expect(seen.versionAt).toBeNull();
    expect(seen.current).toEqual({ content: 'Public {{x}}' });
    expect(JSON.stringify(seen)).not.toContain('alice-draft');
    expect((await diff(id, 3, 4, bob)).changelog).toEqual(['polished']);
    const attempts = [
      h.gql(DIFF, { id, from: 2, to: 4 }, bob),
      h.gql(RENDER, { id, variables: { x: 1 }, version: 1 }, bob),
      h.gql(PLAN, { input: { topic: 'peek', templateId: id, templateVersion: 2 } }, bob),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(errorCodes(response)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(response)).not.toContain('alice-draft');
      expect(JSON.stringify(response)).not.toContain('draft-note');
    }
    // Its team, and the operator, read every version.
    for (const key of [alice, undefined]) {
      const all = await read(key);
      expect(all.versions.totalCount).toBe(4);
      expect(all.versionAt).toEqual({ content: 'alice-draft v2 {{x}}' });
    }
    expect((await diff(id, 1, 4, alice)).changelog).toEqual([
      'draft-note',
      'published',
      'polished',
    ]);
  });
});
