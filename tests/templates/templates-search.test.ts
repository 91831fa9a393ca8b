// Templates marketplace: search with filters, orders and keyset pages, and a page's
// relations loaded without a query per template.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { unique } from '../utils/templates.js';
import { UPDATE, FORK, RENDER, RATE, FLAGS, LIST, marketplace } from './marketplace.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const { mintKey, createTemplate, allPages } = marketplace(h);

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
