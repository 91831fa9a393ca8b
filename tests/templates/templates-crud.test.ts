// Templates marketplace: create, read, update and delete with owner rules, the
// operator's official/featured flags, and the scopes each operation needs.
import { describe, expect, it } from 'vitest';
import { db } from '../../src/platform/db.js';
import { errorCodes } from '../utils/graphql.js';
import { useHarness } from '../utils/harness.js';
import { unique } from '../utils/templates.js';
import {
  CREATE,
  UPDATE,
  GET,
  DELETE,
  RENDER,
  FLAGS,
  type TemplateInput,
  marketplace,
} from './marketplace.js';
import { rowId } from '../utils/ids.js';

const h = useHarness();
const { mintKey, createTemplate } = marketplace(h);

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
      // Read by other teams: a name that shows itself (docs/teams.md).
      { name: 'bell\u0007' },
      { name: 'pay\u202eevil' },
      { name: '\u200b\u2800' },
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
