// Templates marketplace: fork lineage, and a private template visible to its team
// (and the operator) only.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { unique } from '../utils/templates.js';
import { UPDATE, GET, DELETE, FORK, LIST, marketplace } from './marketplace.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const { mintKey, createTemplate, allPages } = marketplace(h);

describe('templates: forks and visibility', () => {
  it('forks into a new template of the caller with the parent link; a private template of someone else cannot be forked', async () => {
    const author = await mintKey('fork-author');
    const forker = await mintKey('fork-forker');
    const source = await createTemplate(
      { isPublic: true, name: 'Source', tags: ['a'], promptSystem: 'guide', content: 'X {{v}}' },
      author,
    );
    await h.gql(UPDATE, { id: source.id, input: { description: 'v2' } }, author);

    const fork = await h.gql(FORK, { id: source.id, name: 'My fork' }, forker);
    expect(fork.errors).toBeUndefined();
    expect(fork.data.forkTemplate).toMatchObject({
      name: 'My fork',
      version: 1,
      isPublic: false,
      tags: ['a'],
      promptSystem: 'guide',
      content: 'X {{v}}',
      variables: ['v'],
      parent: { id: source.id, name: 'Source' },
    });
    const row = await db().template.findUniqueOrThrow({
      where: { id: rowId(fork.data.forkTemplate.id) },
    });
    expect(row.parentId).toBe(rowId(source.id));
    expect(row.ownerId).toBe(
      (await db().user.findUniqueOrThrow({ where: { name: 'fork-forker' } })).id,
    );
    const defaultName = await h.gql(FORK, { id: source.id }, forker);
    expect(defaultName.data.forkTemplate.name).toBe('Source (fork)');

    // The forker's "my templates" has both forks.
    const mine = await h.gql(LIST, { filter: { mine: true } }, forker);
    expect(mine.data.templates.edges.map((e: any) => e.node.name).sort()).toEqual([
      'My fork',
      'Source (fork)',
    ]);

    // The parent turns private: the forker no longer sees it through the fork.
    await h.gql(UPDATE, { id: source.id, input: { isPublic: false } }, author);
    const hidden = await h.gql(GET, { id: fork.data.forkTemplate.id }, forker);
    expect(hidden.data.template.parent).toBeNull();
    expect(errorCodes(await h.gql(FORK, { id: source.id }, forker))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await h.gql(FORK, { id: 'bogus' }, forker))).toEqual(['NOT_FOUND']);
    // Its owner can fork their own private template.
    const own = await h.gql(FORK, { id: source.id }, author);
    expect(own.data.forkTemplate.parent).toEqual({ id: source.id, name: 'Source' });

    // Deleting the parent keeps the fork, without a parent.
    await h.gql(DELETE, { id: source.id }, author);
    const orphan = await db().template.findUniqueOrThrow({
      where: { id: rowId(fork.data.forkTemplate.id) },
    });
    expect(orphan.parentId).toBeNull();
  });

  it('shows a private template to its team only (and the operator), in template, node and templates', async () => {
    const owner = await mintKey('vis-owner');
    const other = await mintKey('vis-other');
    const tag = unique('vis');
    const secret = await createTemplate({ name: 'Secret plan', tags: [tag] }, owner);
    const open = await createTemplate({ name: 'Open plan', tags: [tag], isPublic: true }, owner);

    const nodeQuery = 'query($id: ID!) { template(id: $id) { id } node(id: $id) { id } }';
    expect((await h.gql(nodeQuery, { id: secret.id }, owner)).data).toEqual({
      template: { id: secret.id },
      node: { id: secret.id },
    });
    expect((await h.gql(nodeQuery, { id: secret.id }, other)).data).toEqual({
      template: null,
      node: null,
    });
    expect((await h.gql(nodeQuery, { id: secret.id })).data).toEqual({
      template: { id: secret.id },
      node: { id: secret.id },
    }); // the operator sees every team

    const forOwner = await allPages({ filter: { tags: [tag] } }, owner);
    expect(forOwner.names.sort()).toEqual(['Open plan', 'Secret plan']);
    const forOther = await allPages({ filter: { tags: [tag] } }, other);
    expect(forOther).toMatchObject({ names: ['Open plan'], totalCount: 1 });
    expect((await allPages({ search: 'secret plan' }, other)).names).toEqual([]);
    expect((await allPages({ filter: { tags: [tag], isPublic: false } }, owner)).names).toEqual([
      'Secret plan',
    ]);
    expect((await allPages({ filter: { tags: [tag], mine: false } }, owner)).names).toEqual([]);
    expect((await allPages({ filter: { tags: [tag], mine: false } }, other)).names).toEqual([
      'Open plan',
    ]);
    expect(open.isPublic).toBe(true);
  });
});
