// Templates marketplace: rendering with atomic usage counts, and consistent ratings.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';

import { RENDER, RATE, marketplace } from './marketplace.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const { mintKey, createTemplate } = marketplace(h);

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
