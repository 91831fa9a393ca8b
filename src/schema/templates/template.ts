// Templates marketplace: the Template type with its ratings, and the template
// queries. Changing templates is in mutations.ts.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from '../builder.js';
import { db } from '../../platform/db.js';
import { isTemplateVisibleTo } from '../../services/auth/visibility.js';
import { templateRatingsPage } from '../../services/templates/rating-pages.js';
import { listTemplates } from '../../services/templates/search.js';
import { visibleTemplateWhere } from '../../services/templates/templates.js';
import { rowIdOrNone } from '../ids.js';

export const TemplateCategory = builder.enumType('TemplateCategory', {
  values: ['DOCS', 'SHEETS', 'SLIDES', 'RESEARCH'] as const,
});
const TemplateOrder = builder.enumType('TemplateOrder', {
  values: ['NEWEST', 'RATING', 'USAGE'] as const,
  description: 'Each ends with the id as a tie-break; RATING puts unrated templates last.',
});

export const Template = builder.prismaNode('Template', {
  id: { field: 'id' },
  // node(id) sees what template(id) sees: another team's private template is null.
  nullable: true,
  findUnique: (id, ctx) => visibleTemplateWhere(id, ctx.caller),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    category: t.expose('category', { type: TemplateCategory }),
    tags: t.exposeStringList('tags', { description: 'Lower-case, distinct.' }),
    isPublic: t.exposeBoolean('isPublic'),
    isOfficial: t.exposeBoolean('isOfficial', {
      description: 'Set by the operator (setTemplateFlags).',
    }),
    isFeatured: t.exposeBoolean('isFeatured', {
      description: 'Set by the operator (setTemplateFlags).',
    }),
    promptSystem: t.exposeString('promptSystem', {
      nullable: true,
      description: 'The planning guide topics follow.',
    }),
    content: t.exposeString('content'),
    variables: t.exposeStringList('variables', {
      description: 'The `{{name}}` placeholders of the content, in order of first use.',
    }),
    version: t.exposeInt('version', {
      description: '1 at creation (and for a fork); every update adds one (see versions).',
    }),
    changelog: t.exposeString('changelog', {
      nullable: true,
      description: 'What the current version changed.',
    }),
    usageCount: t.exposeInt('usageCount', { description: 'Successful renders.' }),
    ratingAverage: t.exposeFloat('ratingAverage', {
      nullable: true,
      description: 'null until the first rating.',
    }),
    ratingCount: t.exposeInt('ratingCount'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const TemplateRating = builder
  .objectRef<{ stars: number; review: string | null; createdAt: Date }>('TemplateRating')
  .implement({
    fields: (t) => ({
      stars: t.exposeInt('stars'),
      review: t.exposeString('review', { nullable: true }),
      createdAt: t.expose('createdAt', {
        type: 'DateTime',
        description: 'When the user first rated; rating again keeps it.',
      }),
    }),
  });

// The services return { edges, pageInfo, totalCount }; Pothos types a connection without the total.
const totalCount = (connection: object) => (connection as { totalCount: number }).totalCount;

const TemplateRatingConnection = builder.connectionObject(
  {
    type: TemplateRating,
    name: 'TemplateRatingConnection',
    fields: (t) => ({ totalCount: t.int({ resolve: totalCount }) }),
  },
  { name: 'TemplateRatingEdge' },
);

const TemplateConnection = builder.connectionObject(
  {
    type: Template,
    name: 'TemplateConnection',
    fields: (t) => ({ totalCount: t.int({ resolve: totalCount }) }),
  },
  { name: 'TemplateEdge' },
);

builder.prismaObjectFields(Template, (t) => ({
  parent: t.field({
    type: Template,
    nullable: true,
    description:
      'The template this one was forked from; null when none, deleted, or private to a team the caller is not in.',
    select: (_args, _ctx, nestedSelection) => ({ parent: nestedSelection(true) }),
    resolve: (template, _args, ctx) =>
      template.parent && isTemplateVisibleTo(template.parent, ctx.caller) ? template.parent : null,
  }),
  ratings: t.field({
    type: TemplateRatingConnection,
    description: 'Newest first.',
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (template, args, ctx) => templateRatingsPage(ctx, template, args) as never,
  }),
}));

const TemplateFilter = builder.inputType('TemplateFilter', {
  fields: (t) => ({
    category: t.field({ type: TemplateCategory }),
    tags: t.stringList({ description: 'Templates having every one of these tags.' }),
    isPublic: t.boolean(),
    isOfficial: t.boolean(),
    isFeatured: t.boolean(),
    mine: t.boolean({
      description: 'true: the templates the caller made ("my templates"); false: everyone else\'s.',
    }),
  }),
});

builder.queryField('template', (t) =>
  t.prismaField({
    type: Template,
    nullable: true,
    description: "null for an unknown id and for another team's private template.",
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => {
      return db().template.findUnique({
        ...query,
        where: visibleTemplateWhere(rowIdOrNone('Template', id), ctx.caller),
      });
    },
  }),
);

builder.queryField('templates', (t) =>
  t.field({
    type: TemplateConnection,
    description:
      "Public templates and the private ones of the caller's teams. `search`: " +
      'case-insensitive, in name, description or an exact tag.',
    authScopes: { read: true },
    args: {
      search: t.arg.string(),
      filter: t.arg({ type: TemplateFilter }),
      orderBy: t.arg({ type: TemplateOrder, description: 'Default NEWEST.' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_root, args, ctx, info) =>
      listTemplates(
        ctx.caller,
        args,
        queryFromInfo({ context: ctx, info, typeName: 'Template', path: ['edges', 'node'] }),
      ) as never,
  }),
);
