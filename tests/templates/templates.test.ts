// C7 templates marketplace: CRUD with owner rules, fork lineage, visibility, search with
// filters/orders/keyset pages, rendering with atomic usage counts, and consistent ratings.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { CreateApiKeyMutation } from '../client/operations.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();
const rowId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

async function mintKey(user: string, scopes: string[] = ['WRITE']): Promise<string> {
  const response = await h.gql(CreateApiKeyMutation, { input: { user, name: 'k', scopes } });
  expect(response.errors).toBeUndefined();
  return response.data!.createApiKey.key;
}

const FIELDS =
  'id name description category tags isPublic isOfficial isFeatured promptSystem content variables version changelog usageCount ratingAverage ratingCount parent { id name }';
const CREATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateTemplateInput!) { updateTemplate(id: $id, input: $input) { ${FIELDS} } }`;
const GET = `query($id: ID!) { template(id: $id) { ${FIELDS} } }`;
const DELETE = 'mutation($id: ID!) { deleteTemplate(id: $id) }';
const FORK = `mutation($id: ID!, $name: String) { forkTemplate(id: $id, name: $name) { ${FIELDS} } }`;
const RENDER =
  'mutation($id: ID!, $variables: JSON!) { renderTemplate(id: $id, variables: $variables) { content template { id usageCount } } }';
const RATE =
  'mutation($id: ID!, $stars: Int!, $review: String) { rateTemplate(id: $id, stars: $stars, review: $review) { id ratingAverage ratingCount } }';
const FLAGS =
  'mutation($id: ID!, $isOfficial: Boolean, $isFeatured: Boolean) { setTemplateFlags(id: $id, isOfficial: $isOfficial, isFeatured: $isFeatured) { id isOfficial isFeatured } }';
const LIST = `query($search: String, $filter: TemplateFilter, $orderBy: TemplateOrder, $first: Int, $after: String) {
  templates(search: $search, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name ratingAverage usageCount createdAt } }
  }
}`;

interface TemplateInput {
  name?: string;
  description?: string | null;
  category?: string;
  tags?: string[];
  isPublic?: boolean;
  promptSystem?: string | null;
  content?: string;
}

async function createTemplate(input: TemplateInput = {}, key?: string) {
  const response = await h.gql(
    CREATE,
    { input: { name: unique('tpl'), category: 'DOCS', content: 'Hello {{name}}', ...input } },
    key,
  );
  expect(response.errors).toBeUndefined();
  return response.data.createTemplate;
}

/** Every node of a `templates` query, following endCursor page by page. */
async function allPages(variables: Record<string, unknown>, key?: string, first = 2) {
  const names: string[] = [];
  const ids: string[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let page = 0; page < 100; page++) {
    const response: { data?: any; errors?: unknown } = await h.gql(
      LIST,
      { ...variables, first, after },
      key,
    );
    expect(response.errors).toBeUndefined();
    const connection: any = response.data.templates;
    totalCount = connection.totalCount;
    for (const edge of connection.edges) {
      names.push(edge.node.name);
      ids.push(edge.node.id);
    }
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return { names, ids, totalCount };
}

describe('templates: create, read, update, delete', () => {
  it('creates a template, parses its variables, normalises tags, and reads it by id and node(id)', async () => {
    const template = await createTemplate({
      name: '  Weekly report  ',
      description: 'A weekly status report',
      tags: ['Reports', 'weekly', 'REPORTS', ' Team '],
      promptSystem: 'Plan in three sections.',
      content:
        '# {{ title }}\nFor {{team}} by {{author}}; again {{title}}. {{not a variable}} {{주제}}',
    });
    expect(template).toMatchObject({
      name: 'Weekly report',
      category: 'DOCS',
      tags: ['reports', 'weekly', 'team'],
      isPublic: false,
      isOfficial: false,
      isFeatured: false,
      variables: ['title', 'team', 'author', '주제'],
      version: 1,
      changelog: null,
      usageCount: 0,
      ratingAverage: null,
      ratingCount: 0,
      parent: null,
    });
    const row = await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } });
    expect(row.variables).toEqual(['title', 'team', 'author', '주제']);
    expect(row.ownerId).toBe((await db().user.findUniqueOrThrow({ where: { name: 'admin' } })).id);

    const read = await h.gql(
      `query($id: ID!) { template(id: $id) { id name } node(id: $id) { id ... on Template { name } } }`,
      { id: template.id },
    );
    expect(read.data).toEqual({
      template: { id: template.id, name: 'Weekly report' },
      node: { id: template.id, name: 'Weekly report' },
    });
    expect((await h.gql(GET, { id: 'bogus' })).data.template).toBeNull();
    expect(
      (
        await h.gql(GET, {
          id: Buffer.from('Template:00000000-0000-0000-0000-000000000000').toString('base64'),
        })
      ).data.template,
    ).toBeNull();
  });

  it('rejects invalid input with BAD_USER_INPUT and stores nothing', async () => {
    const marker = unique('invalid');
    const cases: TemplateInput[] = [
      { name: '   ' },
      { name: 'x'.repeat(201) },
      { content: '  \n ' },
      { content: 'x'.repeat(100_001) },
      { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
      { tags: ['x'.repeat(51)] },
      { tags: [''] },
      { promptSystem: 'x'.repeat(20_001) },
    ];
    for (const input of cases) {
      const response = await h.gql(CREATE, {
        input: { name: marker, category: 'DOCS', content: 'c', ...input },
      });
      expect(errorCodes(response), JSON.stringify(input).slice(0, 80)).toEqual(['BAD_USER_INPUT']);
    }
    expect(await db().template.count({ where: { name: marker } })).toBe(0);
    // The limits themselves are accepted.
    await createTemplate({
      name: 'x'.repeat(200),
      content: 'x'.repeat(100_000),
      tags: Array.from({ length: 20 }, (_, i) => `${'y'.repeat(48)}${i}`),
    });
  });

  it("lets only its team's writers update, bumping the version and storing the changelog", async () => {
    const owner = await mintKey('tpl-owner');
    const other = await mintKey('tpl-other');
    const otherAdmin = await mintKey('tpl-other-admin', ['ADMIN']);
    const template = await createTemplate({ isPublic: true, content: 'Hi {{a}}' }, owner);

    const updated = await h.gql(
      UPDATE,
      {
        id: template.id,
        input: { content: 'Bye {{b}} {{c}}', tags: ['New'], changelog: 'Rewrote the greeting' },
      },
      owner,
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateTemplate).toMatchObject({
      version: 2,
      changelog: 'Rewrote the greeting',
      variables: ['b', 'c'],
      tags: ['new'],
      name: template.name,
    });
    const again = await h.gql(UPDATE, { id: template.id, input: { name: 'Renamed' } }, owner);
    expect(again.data.updateTemplate).toMatchObject({
      version: 3,
      changelog: null,
      name: 'Renamed',
      content: 'Bye {{b}} {{c}}',
    });

    const forbidden = await h.gql(UPDATE, { id: template.id, input: { name: 'Hijacked' } }, other);
    expect(errorCodes(forbidden)).toEqual(['FORBIDDEN']);
    // ADMIN in another team is not a writer of this one's either.
    expect(
      errorCodes(await h.gql(UPDATE, { id: template.id, input: { name: 'Hijacked' } }, otherAdmin)),
    ).toEqual(['FORBIDDEN']);
    const row = await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } });
    expect(row).toMatchObject({ name: 'Renamed', version: 3, variables: ['b', 'c'] });

    expect(errorCodes(await h.gql(UPDATE, { id: template.id, input: {} }, owner))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(
      errorCodes(
        await h.gql(UPDATE, { id: template.id, input: { changelog: 'only this' } }, owner),
      ),
    ).toEqual(['BAD_USER_INPUT']);
    expect(
      errorCodes(await h.gql(UPDATE, { id: template.id, input: { name: '' } }, owner)),
    ).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await h.gql(UPDATE, { id: 'bogus', input: { name: 'x' } }, owner))).toEqual([
      'NOT_FOUND',
    ]);

    // Someone else's private template does not exist for the caller.
    const secret = await createTemplate({ isPublic: false }, owner);
    expect(errorCodes(await h.gql(UPDATE, { id: secret.id, input: { name: 'x' } }, other))).toEqual(
      ['NOT_FOUND'],
    );
    expect(
      (await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } })).version,
    ).toBe(3);
  });

  it("deletes for its team's writers or the operator, returning the id; a second delete is NOT_FOUND", async () => {
    const owner = await mintKey('del-owner');
    const other = await mintKey('del-other');
    const mine = await createTemplate({ isPublic: true }, owner);
    expect(errorCodes(await h.gql(DELETE, { id: mine.id }, other))).toEqual(['FORBIDDEN']);
    const deleted = await h.gql(DELETE, { id: mine.id }, owner);
    expect(deleted.data).toEqual({ deleteTemplate: mine.id });
    expect(await db().template.count({ where: { id: rowId(mine.id) } })).toBe(0);
    expect(errorCodes(await h.gql(DELETE, { id: mine.id }, owner))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await h.gql(DELETE, { id: 'bogus' }, owner))).toEqual(['NOT_FOUND']);

    const theirs = await createTemplate({ isPublic: false }, owner);
    expect(errorCodes(await h.gql(DELETE, { id: theirs.id }, other))).toEqual(['NOT_FOUND']);
    expect((await h.gql(DELETE, { id: theirs.id })).data).toEqual({ deleteTemplate: theirs.id }); // the operator
    expect(await db().template.count({ where: { id: rowId(theirs.id) } })).toBe(0);
  });

  it('keeps official/featured flags for the operator: FORBIDDEN for a WRITE key and a team ADMIN key', async () => {
    const writer = await mintKey('flag-writer');
    const teamAdmin = await mintKey('flag-team-admin', ['ADMIN']);
    const template = await createTemplate({ isPublic: true }, writer);
    const refused = await h.gql(FLAGS, { id: template.id, isOfficial: true }, writer);
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    const mine = await createTemplate({ isPublic: true }, teamAdmin);
    expect(errorCodes(await h.gql(FLAGS, { id: mine.id, isOfficial: true }, teamAdmin))).toEqual([
      'FORBIDDEN',
    ]);
    expect(
      await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } }),
    ).toMatchObject({ isOfficial: false, isFeatured: false });
    // The create input has no such fields at all.
    expect(
      errorCodes(
        await h.gql(
          CREATE,
          { input: { name: 'x', category: 'DOCS', content: 'c', isOfficial: true } },
          writer,
        ),
      ),
    ).toEqual(['BAD_USER_INPUT']);

    const set = await h.gql(FLAGS, { id: template.id, isOfficial: true, isFeatured: true });
    expect(set.data.setTemplateFlags).toEqual({
      id: template.id,
      isOfficial: true,
      isFeatured: true,
    });
    const unset = await h.gql(FLAGS, { id: template.id, isFeatured: false });
    expect(unset.data.setTemplateFlags).toEqual({
      id: template.id,
      isOfficial: true,
      isFeatured: false,
    });
    expect(
      await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } }),
    ).toMatchObject({ isOfficial: true, isFeatured: false, version: 1 });
    expect(errorCodes(await h.gql(FLAGS, { id: template.id }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await h.gql(FLAGS, { id: 'bogus', isOfficial: true }))).toEqual([
      'NOT_FOUND',
    ]);
  });

  it('needs the read scope for queries and write for mutations', async () => {
    const reader = await mintKey('tpl-reader', ['READ']);
    const template = await createTemplate({ isPublic: true });
    expect((await h.gql(GET, { id: template.id }, reader)).data.template.id).toBe(template.id);
    expect(
      errorCodes(
        await h.gql(CREATE, { input: { name: 'x', category: 'DOCS', content: 'c' } }, reader),
      ),
    ).toEqual(['FORBIDDEN']);
    expect(
      errorCodes(await h.gql(RENDER, { id: template.id, variables: { name: 'x' } }, reader)),
    ).toEqual(['FORBIDDEN']);
  });
});

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

describe('templates: search, filters, orders, pages', () => {
  it('searches name, description and tags case-insensitively and applies every filter', async () => {
    const tag = unique('search');
    const author = await mintKey('search-author');
    const a = await createTemplate(
      {
        name: 'Quarterly FINANCE review',
        category: 'SHEETS',
        tags: [tag, 'money', 'q1'],
        isPublic: true,
      },
      author,
    );
    const b = await createTemplate(
      {
        name: 'Slides deck',
        description: 'Pitch for the finance team',
        category: 'SLIDES',
        tags: [tag, 'pitch'],
        isPublic: true,
      },
      author,
    );
    const c = await createTemplate(
      {
        name: 'Research notes',
        category: 'RESEARCH',
        tags: [tag, 'Finance', 'money'],
        isPublic: true,
      },
      author,
    );
    const d = await createTemplate(
      {
        name: 'Plain doc',
        description: 'Used 100 times',
        category: 'DOCS',
        tags: [tag],
        isPublic: false,
      },
      author,
    );
    await h.gql(FLAGS, { id: a.id, isOfficial: true });
    await h.gql(FLAGS, { id: b.id, isFeatured: true });
    const within = (extra: Record<string, unknown> = {}) => ({ tags: [tag], ...extra });
    const names = async (variables: Record<string, unknown>, key = author) =>
      (await allPages(variables, key)).names.sort();

    expect(await names({ search: 'finance', filter: within() })).toEqual([
      'Quarterly FINANCE review',
      'Research notes',
      'Slides deck',
    ]);
    expect(await names({ search: '  FiNaNcE ', filter: within() })).toEqual([
      'Quarterly FINANCE review',
      'Research notes',
      'Slides deck',
    ]);
    expect(await names({ search: 'PITCH', filter: within() })).toEqual(['Slides deck']); // description and tag
    expect(await names({ search: '', filter: within() })).toHaveLength(4);
    expect(await names({ search: '100', filter: within() })).toEqual(['Plain doc']);
    expect(await names({ search: '100%', filter: within() })).toEqual([]); // LIKE wildcards are text
    expect(await names({ search: '\\', filter: within() })).toEqual([]);
    expect(await names({ search: 'plain_doc', filter: within() })).toEqual([]);
    expect(await names({ filter: within({ category: 'SLIDES' }) })).toEqual(['Slides deck']);
    expect(await names({ filter: { tags: [tag.toUpperCase(), 'MONEY'] } })).toEqual([
      'Quarterly FINANCE review',
      'Research notes',
    ]);
    expect(await names({ filter: { tags: [tag, 'money', 'q1'] } })).toEqual([
      'Quarterly FINANCE review',
    ]);
    expect(await names({ filter: within({ isPublic: false }) })).toEqual(['Plain doc']);
    expect(await names({ filter: within({ isPublic: true }) })).toHaveLength(3);
    expect(await names({ filter: within({ isOfficial: true }) })).toEqual([
      'Quarterly FINANCE review',
    ]);
    expect(await names({ filter: within({ isFeatured: true }) })).toEqual(['Slides deck']);
    expect(await names({ filter: within({ isFeatured: false, isOfficial: false }) })).toEqual([
      'Plain doc',
      'Research notes',
    ]);
    expect(await names({ filter: within({ mine: true }) })).toHaveLength(4);
    expect(await names({ filter: within({ mine: true }) }, h.adminKey)).toEqual([]);
    // The operator sees every team's private templates too.
    expect(await names({ filter: within({ mine: false }) }, h.adminKey)).toEqual([
      'Plain doc',
      'Quarterly FINANCE review',
      'Research notes',
      'Slides deck',
    ]);
    const counted = await h.gql(LIST, { search: 'finance', filter: within(), first: 1 }, author);
    expect(counted.data.templates).toMatchObject({
      totalCount: 3,
      pageInfo: { hasNextPage: true },
    });
    expect(counted.data.templates.edges).toHaveLength(1);
    expect([c.id, d.id]).toHaveLength(2);

    expect(errorCodes(await h.gql(LIST, { search: 'x'.repeat(201) }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await h.gql(LIST, { first: 101 }))).toEqual(['BAD_USER_INPUT']);
  });

  it('orders by NEWEST, RATING and USAGE with id tie-breaks, paging through everything once', async () => {
    const tag = unique('order');
    const author = await mintKey('order-author');
    const raters = await Promise.all([1, 2, 3].map((i) => mintKey(`order-rater-${i}`)));
    const templates = [];
    // 4 and 6 private from the start, 2 made private after it is rated: every order merges
    // the author's private rows with the public ones, ties included.
    for (let i = 0; i < 7; i++)
      templates.push(
        await createTemplate(
          { name: `order ${i}`, tags: [tag], isPublic: i !== 4 && i !== 6 },
          author,
        ),
      );
    // Ratings: 0 → 5, 1 → 3, 2 → 5 (tie with 0), 3 → 4 (4 and 4), 4,5,6 unrated (tie on null).
    const ratings: Array<[number, number[]]> = [
      [0, [5]],
      [1, [3]],
      [2, [5]],
      [3, [4, 4]],
    ];
    for (const [index, stars] of ratings) {
      for (const [r, s] of stars.entries())
        expect(
          (await h.gql(RATE, { id: templates[index]!.id, stars: s }, raters[r])).errors,
        ).toBeUndefined();
    }
    // Usage: 5 → 3 uses, 6 → 3 uses (tie), 1 → 1 use, others 0 (tie).
    for (const [index, uses] of [
      [5, 3],
      [6, 3],
      [1, 1],
    ] as const) {
      for (let u = 0; u < uses; u++)
        expect(
          (await h.gql(RENDER, { id: templates[index]!.id, variables: { name: 'x' } }, author))
            .errors,
        ).toBeUndefined();
    }

    expect(
      (await h.gql(UPDATE, { id: templates[2]!.id, input: { isPublic: false } }, author)).errors,
    ).toBeUndefined();

    const rows = await db().template.findMany({ where: { tags: { has: tag } } });
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const expected = {
      NEWEST: [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || byId(a, b)),
      RATING: [...rows].sort(
        (a, b) => (b.ratingAverage ?? -1) - (a.ratingAverage ?? -1) || byId(a, b),
      ),
      USAGE: [...rows].sort((a, b) => b.usageCount - a.usageCount || byId(a, b)),
    };
    for (const [orderBy, sorted] of Object.entries(expected)) {
      for (const first of [1, 2, 3, 7]) {
        const pages = await allPages({ orderBy, filter: { tags: [tag] } }, author, first);
        expect(pages.ids.map(rowId), `${orderBy} first ${first}`).toEqual(
          sorted.map((row) => row.id),
        );
        expect(new Set(pages.ids).size).toBe(7);
        expect(pages.totalCount).toBe(7);
      }
    }
    expect(expected.RATING.slice(-3).every((row) => row.ratingAverage === null)).toBe(true);
    // Someone else sees the public four, in the same orders.
    for (const [orderBy, sorted] of Object.entries(expected)) {
      const pages = await allPages({ orderBy, filter: { tags: [tag] } }, raters[0], 3);
      expect(pages.ids.map(rowId), orderBy).toEqual(
        sorted.filter((row) => row.isPublic).map((row) => row.id),
      );
      expect(pages.totalCount).toBe(4);
    }
    // NEWEST is the default.
    expect((await allPages({ filter: { tags: [tag] } }, author)).ids.map(rowId)).toEqual(
      expected.NEWEST.map((row) => row.id),
    );

    const newestCursor = (
      await h.gql(LIST, { orderBy: 'NEWEST', filter: { tags: [tag] }, first: 1 }, author)
    ).data.templates.pageInfo.endCursor;
    expect(
      errorCodes(await h.gql(LIST, { orderBy: 'USAGE', after: newestCursor }, author)),
    ).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await h.gql(LIST, { after: 'not-a-cursor' }, author))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('loads parents and ratings of a page without a query per template', async () => {
    const tag = unique('nplus1');
    const author = await mintKey('nplus1-author');
    const rater = await mintKey('nplus1-rater');
    const parent = await createTemplate({ isPublic: true, tags: [tag] }, author);
    const query = `query($tag: String!) { templates(filter: { tags: [$tag] }, first: 50) { totalCount edges { node { name parent { name } ratings(first: 2) { totalCount edges { node { stars } } } } } } }`;
    const count = async () => {
      h.queryLog.length = 0;
      const response = await h.gql(query, { tag });
      expect(response.errors).toBeUndefined();
      return h.queryLog.filter((sql) => !/^(BEGIN|COMMIT)/i.test(sql)).length;
    };
    const fork = await h.gql(FORK, { id: parent.id }, rater);
    await h.gql(
      UPDATE,
      { id: fork.data.forkTemplate.id, input: { isPublic: true, tags: [tag] } },
      rater,
    );
    const withFew = await count();
    for (let i = 0; i < 10; i++) {
      const extra = await h.gql(FORK, { id: parent.id }, rater);
      await h.gql(
        UPDATE,
        { id: extra.data.forkTemplate.id, input: { isPublic: true, tags: [tag] } },
        rater,
      );
      await h.gql(RATE, { id: extra.data.forkTemplate.id, stars: 4 }, author);
    }
    const withMany = await count();
    expect(withMany).toBe(withFew);
    expect(withMany).toBeLessThanOrEqual(8);

    // Each template gets its own page of ratings from the one batched statement.
    const popular = await createTemplate({ isPublic: true, tags: [tag] }, rater);
    for (const key of [author, h.adminKey, await mintKey('nplus1-third')])
      await h.gql(RATE, { id: popular.id, stars: 3 }, key);
    const pages = await h.gql(
      `query($tag: String!) { templates(filter: { tags: [$tag] }, first: 50) { edges { node { id ratings(first: 2) { totalCount pageInfo { hasNextPage } edges { node { stars } } } } } } }`,
      { tag },
    );
    const byTemplate = new Map<string, any>(
      pages.data.templates.edges.map((e: any) => [e.node.id, e.node.ratings]),
    );
    expect(byTemplate.get(popular.id)).toMatchObject({
      totalCount: 3,
      pageInfo: { hasNextPage: true },
    });
    expect(byTemplate.get(popular.id).edges).toHaveLength(2);
    expect(byTemplate.get(parent.id)).toMatchObject({
      totalCount: 0,
      pageInfo: { hasNextPage: false },
      edges: [],
    });
    expect(
      [...byTemplate.values()].filter((r) => r.totalCount === 1 && r.edges.length === 1),
    ).toHaveLength(10);
  });
});

describe('templates: rendering', () => {
  it('substitutes placeholders, names every missing variable, ignores extra ones', async () => {
    const author = await mintKey('render-author');
    const template = await createTemplate(
      {
        isPublic: true,
        content:
          'Dear {{ name }}, {{count}} items ({{ok}}). {{name}}! {{ unknown thing }} {{__proto__}}',
      },
      author,
    );
    const id = template.id;

    const rendered = await h.gql(
      RENDER,
      { id, variables: { name: 'Kim', count: 3, ok: true, extra: 'ignored', ['__proto__']: 'p' } },
      author,
    );
    expect(rendered.errors).toBeUndefined();
    expect(rendered.data.renderTemplate).toEqual({
      content: 'Dear Kim, 3 items (true). Kim! {{ unknown thing }} p',
      template: { id, usageCount: 1 },
    });
    // A value is inserted as text, never substituted again.
    const literal = await h.gql(
      RENDER,
      { id, variables: { name: '{{count}}', count: 1, ok: false, ['__proto__']: '' } },
      author,
    );
    expect(literal.data.renderTemplate.content).toBe(
      'Dear {{count}}, 1 items (false). {{count}}! {{ unknown thing }} ',
    );

    const missing = await h.gql(RENDER, { id, variables: { name: 'Kim', extra: 1 } }, author);
    expect(errorCodes(missing)).toEqual(['BAD_USER_INPUT']);
    expect(missing.errors![0]!.message).toContain('count');
    expect(missing.errors![0]!.message).toContain('ok');
    expect(missing.errors![0]!.message).toContain('__proto__');
    expect(missing.errors![0]!.extensions!.missingVariables).toEqual(['count', 'ok', '__proto__']);

    for (const bad of [{ name: { first: 'x' } }, { name: null }, { name: ['a'] }]) {
      const response = await h.gql(
        RENDER,
        { id, variables: { count: 1, ok: true, ['__proto__']: 'x', ...bad } },
        author,
      );
      expect(errorCodes(response), JSON.stringify(bad)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toContain('name');
    }
    for (const variables of [[], 'name', 3])
      expect(errorCodes(await h.gql(RENDER, { id, variables }, author))).toEqual([
        'BAD_USER_INPUT',
      ]);
    // Failed renders are not uses.
    expect((await db().template.findUniqueOrThrow({ where: { id: rowId(id) } })).usageCount).toBe(
      2,
    );

    const other = await mintKey('render-other');
    const secret = await createTemplate({ content: 'x' }, author);
    expect(errorCodes(await h.gql(RENDER, { id: secret.id, variables: {} }, other))).toEqual([
      'NOT_FOUND',
    ]);
    expect(errorCodes(await h.gql(RENDER, { id: 'bogus', variables: {} }, other))).toEqual([
      'NOT_FOUND',
    ]);
  });

  it('counts 100 concurrent renders exactly', async () => {
    const template = await createTemplate({ isPublic: true, content: 'Hi {{name}}' });
    const before = await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } });
    const user = await mintKey('render-crowd');
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        h.gql(RENDER, { id: template.id, variables: { name: `n${i}` } }, user),
      ),
    );
    expect(responses.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(new Set(responses.map((r) => r.data.renderTemplate.content)).size).toBe(100);
    const row = await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } });
    expect(row.usageCount).toBe(100);
    // Using a template is not editing it.
    expect(row.updatedAt).toEqual(before.updatedAt);
  });
});

describe('templates: ratings', () => {
  it('keeps ratingAverage and ratingCount exact under 20 concurrent raters', async () => {
    const author = await mintKey('rating-author');
    const template = await createTemplate({ isPublic: true }, author);
    const keys: string[] = [];
    for (let i = 0; i < 20; i++) keys.push(await mintKey(`rater-${i}`));
    const stars = keys.map((_, i) => ((i * 7) % 5) + 1);
    const responses = await Promise.all(
      keys.map((key, i) =>
        h.gql(RATE, { id: template.id, stars: stars[i], review: `review ${i}` }, key),
      ),
    );
    expect(responses.flatMap((r) => r.errors ?? [])).toEqual([]);
    const mean = stars.reduce((a, b) => a + b, 0) / stars.length;

    const row = await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } });
    expect(row.ratingCount).toBe(20);
    expect(row.ratingAverage).toBeCloseTo(mean, 10);
    expect(await db().templateRating.count({ where: { templateId: row.id } })).toBe(20);
    const aggregate = await db().templateRating.aggregate({
      where: { templateId: row.id },
      _avg: { stars: true },
    });
    expect(row.ratingAverage).toBeCloseTo(aggregate._avg.stars!, 10);
  });

  it('updates a rating when the same user rates again, and lists ratings newest first', async () => {
    const author = await mintKey('rerate-author');
    const first = await mintKey('rerate-1');
    const second = await mintKey('rerate-2');
    const template = await createTemplate({ isPublic: true }, author);
    expect(
      (await h.gql(RATE, { id: template.id, stars: 2, review: 'meh' }, first)).data.rateTemplate,
    ).toMatchObject({ ratingAverage: 2, ratingCount: 1 });
    expect(
      (await h.gql(RATE, { id: template.id, stars: 5 }, second)).data.rateTemplate,
    ).toMatchObject({ ratingAverage: 3.5, ratingCount: 2 });
    const again = await h.gql(RATE, { id: template.id, stars: 4, review: '  better now ' }, first);
    expect(again.data.rateTemplate).toMatchObject({ ratingAverage: 4.5, ratingCount: 2 });
    const stored = await db().templateRating.findMany({
      where: { templateId: rowId(template.id) },
      orderBy: { stars: 'asc' },
    });
    expect(stored.map((r) => [r.stars, r.review])).toEqual([
      [4, 'better now'],
      [5, null],
    ]);

    const ratingsQuery =
      'query($id: ID!, $first: Int, $after: String) { template(id: $id) { ratings(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { stars review createdAt } } } } }';
    const page1 = (await h.gql(ratingsQuery, { id: template.id, first: 1 })).data.template.ratings;
    expect(page1).toMatchObject({
      totalCount: 2,
      pageInfo: { hasNextPage: true },
      edges: [{ node: { stars: 5, review: null } }],
    });
    const page2 = (
      await h.gql(ratingsQuery, { id: template.id, first: 1, after: page1.pageInfo.endCursor })
    ).data.template.ratings;
    expect(page2).toMatchObject({
      totalCount: 2,
      pageInfo: { hasNextPage: false },
      edges: [{ node: { stars: 4, review: 'better now' } }],
    });
    const bad = await h.gql(ratingsQuery, { id: template.id, after: 'nope' });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses stars outside 1-5, your own template, and hidden templates', async () => {
    const author = await mintKey('rate-rules-author');
    const rater = await mintKey('rate-rules-rater');
    const template = await createTemplate({ isPublic: true }, author);
    for (const stars of [0, 6, -1])
      expect(errorCodes(await h.gql(RATE, { id: template.id, stars }, rater))).toEqual([
        'BAD_USER_INPUT',
      ]);
    expect(errorCodes(await h.gql(RATE, { id: template.id, stars: 5 }, author))).toEqual([
      'FORBIDDEN',
    ]);
    const secret = await createTemplate({ isPublic: false }, author);
    expect(errorCodes(await h.gql(RATE, { id: secret.id, stars: 5 }, rater))).toEqual([
      'NOT_FOUND',
    ]);
    expect(errorCodes(await h.gql(RATE, { id: 'bogus', stars: 5 }, rater))).toEqual(['NOT_FOUND']);
    expect(
      await db().templateRating.count({
        where: { templateId: { in: [rowId(template.id), rowId(secret.id)] } },
      }),
    ).toBe(0);
    expect(
      await db().template.findUniqueOrThrow({ where: { id: rowId(template.id) } }),
    ).toMatchObject({ ratingAverage: null, ratingCount: 0 });
  });
});
