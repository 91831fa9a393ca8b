// Template versions: every create, update and fork records an immutable version;
// versions read newest first in pages, or one at a time; updates against a stale version
// conflict, updates that change nothing are refused, concurrent updates lose nothing; forks
// know which parent version they came from and whether the parent moved on.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { templateHelpers, unique, UPDATE_TEMPLATE } from '../utils/templates.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const { mintKey, createTemplate, updateTemplate } = templateHelpers(h);

const VERSION_FIELDS = 'version content promptSystem variables changelog createdBy createdAt';
const VERSIONS = `query($id: ID!, $first: Int, $after: String) { template(id: $id) {
  version versions(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${VERSION_FIELDS} } } } } }`;
const VERSION_AT = `query($id: ID!, $version: Int!) { template(id: $id) { versionAt(version: $version) { ${VERSION_FIELDS} } } }`;
const FORK = `mutation($id: ID!) { forkTemplate(id: $id) { id version parentVersion upstreamVersion } }`;
const LINEAGE = `query($id: ID!) { template(id: $id) { parentVersion upstreamVersion parent { id } } }`;

async function versionsOf(id: string, key?: string, first = 100) {
  const response = await h.gql(VERSIONS, { id, first }, key);
  expect(response.errors).toBeUndefined();
  return response.data.template.versions;
}

const storedVersions = (templateId: string) =>
  db().templateVersion.findMany({ where: { templateId }, orderBy: { version: 'asc' } });

describe('template versions: recorded', () => {
  it('records version 1 on create and on fork, and one version per update with its content and changelog', async () => {
    const author = await mintKey('ver-author');
    const forker = await mintKey('ver-forker');
    const { id } = await createTemplate(
      { isPublic: true, content: 'Hi {{a}}', promptSystem: '## One' },
      author,
    );
    await updateTemplate(id, { content: 'Hi {{a}} {{b}}', changelog: 'Adds b' }, author);
    const renamed = await updateTemplate(id, { name: unique('renamed') }, author);
    expect(renamed).toMatchObject({ version: 3, changelog: null, content: 'Hi {{a}} {{b}}' });

    const versions = await versionsOf(id);
    expect(versions.totalCount).toBe(3);
    expect(versions.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({ version: 3, content: 'Hi {{a}} {{b}}', changelog: null }),
      expect.objectContaining({
        version: 2,
        content: 'Hi {{a}} {{b}}',
        variables: ['a', 'b'],
        promptSystem: '## One',
        changelog: 'Adds b',
        createdBy: 'ver-author',
      }),
      expect.objectContaining({
        version: 1,
        content: 'Hi {{a}}',
        variables: ['a'],
        changelog: null,
        createdBy: 'ver-author',
      }),
    ]);

    const fork = await h.gql(FORK, { id }, forker);
    expect(fork.data.forkTemplate).toMatchObject({
      version: 1,
      parentVersion: 3,
      upstreamVersion: null,
    });
    const forkVersions = await versionsOf(fork.data.forkTemplate.id, forker);
    expect(forkVersions.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({
        version: 1,
        content: 'Hi {{a}} {{b}}',
        promptSystem: '## One',
        changelog: 'Forked from version 3',
        createdBy: 'ver-forker',
      }),
    ]);
    expect((await storedVersions(rowId(id))).map((row) => row.version)).toEqual([1, 2, 3]);
  });

  it('pages through versions newest first, and reads one with versionAt (null when unknown)', async () => {
    const { id } = await createTemplate({ content: 'v1' });
    for (let version = 2; version <= 7; version++)
      await updateTemplate(id, { content: `v${version}`, changelog: `to ${version}` });

    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: any = await h.gql(VERSIONS, { id, first: 3, after });
      const connection = response.data.template.versions;
      expect(connection.totalCount).toBe(7);
      seen.push(...connection.edges.map((edge: any) => edge.node.version));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);

    const at = await h.gql(VERSION_AT, { id, version: 4 });
    expect(at.data.template.versionAt).toMatchObject({
      version: 4,
      content: 'v4',
      changelog: 'to 4',
    });
    for (const version of [0, -1, 8, 2_147_483_647]) {
      const unknown = await h.gql(VERSION_AT, { id, version });
      expect(unknown.errors).toBeUndefined();
      expect(unknown.data.template.versionAt).toBeNull();
    }
    expect(errorCodes(await h.gql(VERSIONS, { id, first: 101 }))).toEqual(['BAD_USER_INPUT']);
    for (const cursor of ['not-a-cursor', Buffer.from('["x"]').toString('base64url')]) {
      const bad = await h.gql(VERSIONS, { id, first: 2, after: cursor });
      expect(errorCodes(bad), cursor).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('template versions: updates', () => {
  it('refuses a stale expectedVersion with CONFLICT and extensions.currentVersion', async () => {
    const { id } = await createTemplate({ content: 'one' });
    await updateTemplate(id, { content: 'two' });
    const stale = await h.gql(UPDATE_TEMPLATE, {
      id,
      input: { content: 'three' },
      expectedVersion: 1,
    });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
    expect(stale.data).toBeNull();
    expect((await storedVersions(rowId(id))).length).toBe(2);

    const current = await h.gql(UPDATE_TEMPLATE, {
      id,
      input: { content: 'three' },
      expectedVersion: 2,
    });
    expect(current.errors).toBeUndefined();
    expect(current.data.updateTemplate).toMatchObject({ version: 3, content: 'three' });
  });

  it('refuses an update that changes nothing, changelog alone included', async () => {
    const name = unique('same');
    const { id } = await createTemplate({
      name,
      content: 'Same {{x}}',
      tags: ['alpha', 'beta'],
      promptSystem: 'guide',
      isPublic: true,
      description: 'desc',
    });
    const unchanged = [
      { content: 'Same {{x}}', changelog: 'nothing really' },
      { name: `  ${name} ` },
      { tags: ['Alpha', 'beta ', 'alpha'] },
      { isPublic: true, description: ' desc ', promptSystem: 'guide' },
      { changelog: 'only a changelog' },
      {},
    ];
    for (const input of unchanged) {
      const response = await h.gql(UPDATE_TEMPLATE, { id, input });
      expect(errorCodes(response), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await storedVersions(rowId(id))).length).toBe(1);
    // One field that changes among equal ones is an update.
    const changed = await updateTemplate(id, { content: 'Same {{x}}', tags: ['beta', 'alpha'] });
    expect(changed.version).toBe(2);
  });

  it('makes concurrent updates one after another: one expectedVersion lets exactly one win, none lets all in', async () => {
    const { id } = await createTemplate({ content: 'start' });
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.gql(UPDATE_TEMPLATE, { id, input: { content: `racer ${i}` }, expectedVersion: 1 }),
      ),
    );
    const winners = racing.filter((response) => !response.errors);
    expect(winners.length).toBe(1);
    const losers = racing.filter((response) => response.errors);
    expect(losers.map((response) => response.errors![0]!.extensions)).toEqual(
      Array.from({ length: 7 }, () =>
        expect.objectContaining({ code: 'CONFLICT', currentVersion: 2 }),
      ),
    );
    const afterRace = await storedVersions(rowId(id));
    expect(afterRace.map((row) => row.content)).toEqual([
      'start',
      winners[0]!.data.updateTemplate.content,
    ]);

    const writers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.gql(UPDATE_TEMPLATE, { id, input: { content: `writer ${i}` } }),
      ),
    );
    expect(writers.every((response) => !response.errors)).toBe(true);
    expect(
      writers.map((response) => response.data.updateTemplate.version).sort((a, b) => a - b),
    ).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    // Each version holds what its update wrote; the template is the last one.
    const rows = await storedVersions(rowId(id));
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const response of writers) {
      const { version, content } = response.data.updateTemplate;
      expect(rows.find((row) => row.version === version)!.content).toBe(content);
    }
    const template = await db().template.findUniqueOrThrow({ where: { id: rowId(id) } });
    expect(template).toMatchObject({ version: 10, content: rows.at(-1)!.content });
  });
});

describe('template versions: rows', () => {
  it('keeps version rows immutable; they go with their template, and lose only their author with the user', async () => {
    const author = await mintKey(unique('leaving'));
    const { id } = await createTemplate({ isPublic: true, content: 'keep' }, author);
    await updateTemplate(id, { content: 'kept' }, author);
    await expect(
      db()
        .$executeRaw`UPDATE "template_versions" SET "content" = 'rewritten' WHERE "templateId" = ${rowId(id)}::uuid`,
    ).rejects.toThrow(/immutable/);
    await expect(
      db().$executeRaw`DELETE FROM "template_versions" WHERE "templateId" = ${rowId(id)}::uuid`,
    ).rejects.toThrow(/immutable/);
    expect((await storedVersions(rowId(id))).map((row) => row.content)).toEqual(['keep', 'kept']);

    const owner = await db().template.findUniqueOrThrow({ where: { id: rowId(id) } });
    await db().user.delete({ where: { id: owner.ownerId! } });
    const orphaned = await versionsOf(id);
    expect(orphaned.edges.map((edge: any) => edge.node.createdBy)).toEqual([null, null]);

    expect((await h.gql('mutation($id: ID!) { deleteTemplate(id: $id) }', { id })).errors).toBe(
      undefined,
    );
    expect(await storedVersions(rowId(id))).toEqual([]);
  });
});

describe('template versions: forks', () => {
  it('gives a fork parentVersion, and upstreamVersion once the parent moves on (null when hidden or gone)', async () => {
    const author = await mintKey('lineage-author');
    const forker = await mintKey('lineage-forker');
    const { id: parentId } = await createTemplate({ isPublic: true, content: 'p1' }, author);
    const own = await h.gql(LINEAGE, { id: parentId }, author);
    expect(own.data.template).toEqual({ parentVersion: null, upstreamVersion: null, parent: null });

    const forkId = (await h.gql(FORK, { id: parentId }, forker)).data.forkTemplate.id;
    await updateTemplate(parentId, { content: 'p2' }, author);
    await updateTemplate(parentId, { content: 'p3' }, author);
    // The fork's own updates do not change where it came from.
    await updateTemplate(forkId, { content: 'f2' }, forker);
    const moved = await h.gql(LINEAGE, { id: forkId }, forker);
    expect(moved.data.template).toEqual({
      parentVersion: 1,
      upstreamVersion: 3,
      parent: { id: parentId },
    });

    await updateTemplate(parentId, { isPublic: false }, author);
    const hidden = await h.gql(LINEAGE, { id: forkId }, forker);
    expect(hidden.data.template).toEqual({ parentVersion: 1, upstreamVersion: null, parent: null });

    await h.gql('mutation($id: ID!) { deleteTemplate(id: $id) }', { id: parentId }, author);
    const gone = await h.gql(LINEAGE, { id: forkId }, forker);
    expect(gone.data.template).toEqual({ parentVersion: 1, upstreamVersion: null, parent: null });
  });
});

describe('template versions: lists', () => {
  it('loads versions, versionAt and upstreamVersion of a page of templates without a query per template', async () => {
    const tag = unique('vlist');
    const { id: parentId } = await createTemplate({ isPublic: true, tags: [tag] });
    const query = `query($tag: String!) { templates(filter: { tags: [$tag] }, first: 50) { totalCount edges { node {
      upstreamVersion versionAt(version: 1) { content } versions(first: 2) { totalCount edges { node { version createdBy } } } } } } }`;
    const count = async (expected: number) => {
      h.queryLog.length = 0;
      const response = await h.gql(query, { tag });
      expect(response.errors).toBeUndefined();
      expect(response.data.templates.totalCount).toBe(expected);
      for (const { node } of response.data.templates.edges) {
        expect(node.versionAt).not.toBeNull();
        expect(node.versions.edges.length).toBeGreaterThan(0);
      }
      return h.queryLog.filter((sql) => !/^(BEGIN|COMMIT)/i.test(sql)).length;
    };
    const addFork = async () => {
      const fork = await h.gql(FORK, { id: parentId });
      await updateTemplate(fork.data.forkTemplate.id, { isPublic: true, tags: [tag] });
    };
    await addFork();
    const withFew = await count(2);
    for (let i = 0; i < 10; i++) await addFork();
    await updateTemplate(parentId, { content: 'moved on' });
    expect(await count(12)).toBe(withFew);
  });
});
