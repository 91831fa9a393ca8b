// agents(search:) totalCount on many agents: exact up to its cap, then the planner's estimate.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { createCorpus } from '../utils/corpus.js';
import { useHarness } from '../utils/harness.js';

const h = useHarness();

describe('agents(search:) totalCount', () => {
  it('counts name matches exactly up to 1,000, then estimates and says so; pages them newest first', async () => {
    const corpus = await createCorpus(h);
    const taxonomy = await db().taxonomy.findFirstOrThrow({ where: { version: corpus.version } });
    await db().agent.createMany({
      data: Array.from({ length: 1_500 }, (_, i) => ({
        name: `Bulk ${i % 3 ? 'widget' : 'gadget'} 50%_${i}`,
        taxonomyId: taxonomy.id,
        taxonomyVersion: corpus.version,
        teamId: taxonomy.teamId,
      })),
    });
    await db().$executeRawUnsafe('ANALYZE agents');
    const count = `query($s: String) { agents(search: $s, first: 1) { totalCount totalCountIsEstimate }
                                       gadgets: agents(search: "GADGET", first: 1) { totalCount totalCountIsEstimate } }`;
    const exact = await h.gql(count, { s: 'widget' });
    expect(exact.data.agents).toEqual({ totalCount: 1_000, totalCountIsEstimate: false });
    expect(exact.data.gadgets).toEqual({ totalCount: 500, totalCountIsEstimate: false });
    // A wildcard in the search is a character, not a pattern.
    const names = (await db().agent.findMany({ select: { name: true } })).map((a) => a.name);
    const literal = await h.gql(
      `{ agents(search: "50%_1", first: 100) { totalCount edges { node { name } } } }`,
    );
    expect(literal.data.agents.totalCount).toBe(
      names.filter((name) => name.includes('50%_1')).length,
    );
    expect(literal.data.agents.edges.every((e: any) => e.node.name.includes('50%_1'))).toBe(true);
    const estimated = (await h.gql(count, { s: 'bulk' })).data.agents;
    expect(estimated.totalCountIsEstimate).toBe(true);
    expect(estimated.totalCount).toBeGreaterThan(1_000);
    expect(estimated.totalCount).toBeLessThan(3_000);

    // Pages, newest first, alike for few matches (read by id) and many (the pattern over the createdAt order).
    const page = `query($s: String, $after: String) { agents(search: $s, first: 100, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
    for (const search of ['gadget', 'bulk']) {
      const expected = (
        await db().agent.findMany({
          where: { name: { contains: search, mode: 'insensitive' } },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: 200,
        })
      ).map((a) => a.name);
      const first = (await h.gql(page, { s: search })).data.agents;
      const second = (await h.gql(page, { s: search, after: first.pageInfo.endCursor })).data
        .agents;
      expect(
        [...first.edges, ...second.edges].map((e: any) => e.node.name),
        search,
      ).toEqual(expected);
      expect(second.pageInfo.hasNextPage, search).toBe(true);
    }
  });
});
