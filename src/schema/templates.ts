import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from './builder.js';
import { db } from '../platform/db.js';
import { rowIdOrNone } from '../platform/ids.js';
import { isTemplateVisibleTo } from '../resolvers/auth/visibility.js';
import { templateRatingsPage } from '../resolvers/templates/rating-pages.js';
import { rateTemplate } from '../resolvers/templates/ratings.js';
import {
  renderTemplate,
  type RenderedTemplate as RenderedTemplateShape,
} from '../resolvers/templates/render.js';
import { listTemplates } from '../resolvers/templates/search.js';
import {
  createTemplate,
  deleteTemplate,
  forkTemplate,
  setTemplateFlags,
  updateTemplate,
  visibleTemplateWhere,
} from '../resolvers/templates/templates.js';

const TemplateCategory = builder.enumType('TemplateCategory', {
  values: ['DOCS', 'SHEETS', 'SLIDES', 'RESEARCH'] as const,
});
const TemplateOrder = builder.enumType('TemplateOrder', {
  values: ['NEWEST', 'RATING', 'USAGE'] as const,
  description: 'Each ends with the id as a tie-break; RATING puts unrated templates last.',
});

export const Template = builder.prismaNode('Template', {
  id: { field: 'id' },
  // node(id) sees what template(id) sees: someone else's private template is null.
  nullable: true,
  findUnique: (id, ctx) => visibleTemplateWhere(id, ctx.caller),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    category: t.expose('category', { type: TemplateCategory }),
    tags: t.exposeStringList('tags', { description: 'Lower-case, distinct.' }),
    isPublic: t.exposeBoolean('isPublic'),
    isOfficial: t.exposeBoolean('isOfficial', { description: 'Set by admins (setTemplateFlags).' }),
    isFeatured: t.exposeBoolean('isFeatured', { description: 'Set by admins (setTemplateFlags).' }),
    promptSystem: t.exposeString('promptSystem', {
      nullable: true,
      description: 'The planning guide topics follow.',
    }),
    content: t.exposeString('content'),
    variables: t.exposeStringList('variables', {
      description: 'The `{{name}}` placeholders of the content, in order of first use.',
    }),
    version: t.exposeInt('version', {
      description: '1 at creation (and for a fork); every update adds one.',
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
      'The template this one was forked from; null when none, deleted, or private to someone else.',
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

const RenderedTemplate = builder.objectRef<RenderedTemplateShape>('RenderedTemplate').implement({
  fields: (t) => ({
    content: t.exposeString('content'),
    template: t.prismaField({
      type: Template,
      description: 'The template, its usageCount including this render.',
      resolve: (query, rendered) =>
        db().template.findUniqueOrThrow({ ...query, where: { id: rendered.templateId } }),
    }),
  }),
});

const TemplateFilter = builder.inputType('TemplateFilter', {
  fields: (t) => ({
    category: t.field({ type: TemplateCategory }),
    tags: t.stringList({ description: 'Templates having every one of these tags.' }),
    isPublic: t.boolean(),
    isOfficial: t.boolean(),
    isFeatured: t.boolean(),
    mine: t.boolean({
      description: 'true: the caller\'s own templates ("my templates"); false: everyone else\'s.',
    }),
  }),
});

const CreateTemplateInput = builder.inputType('CreateTemplateInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    category: t.field({ type: TemplateCategory, required: true }),
    tags: t.stringList(),
    isPublic: t.boolean({ description: 'Default false (private).' }),
    promptSystem: t.string(),
    content: t.string({ required: true }),
  }),
});

const UpdateTemplateInput = builder.inputType('UpdateTemplateInput', {
  description: 'Only the fields sent change; every update is a new version.',
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    tags: t.stringList(),
    isPublic: t.boolean(),
    promptSystem: t.string(),
    content: t.string(),
    changelog: t.string({ description: 'What this version changes.' }),
  }),
});

builder.queryField('template', (t) =>
  t.prismaField({
    type: Template,
    nullable: true,
    description: "null for an unknown id and for someone else's private template.",
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
      "Public templates and the caller's own. `search`: case-insensitive, in name, description or an exact tag.",
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

builder.mutationField('createTemplate', (t) =>
  t.prismaField({
    type: Template,
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateTemplateInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const template = await createTemplate(input, ctx.caller);
      return db().template.findUniqueOrThrow({ ...query, where: { id: template.id } });
    },
  }),
);

builder.mutationField('updateTemplate', (t) =>
  t.prismaField({
    type: Template,
    description: 'Owner only (FORBIDDEN otherwise); bumps version and stores the changelog.',
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateTemplateInput, required: true }),
    },
    resolve: async (query, _root, { id, input }, ctx) => {
      const template = await updateTemplate(id, input, ctx.caller);
      return db().template.findUniqueOrThrow({ ...query, where: { id: template.id } });
    },
  }),
);

builder.mutationField('deleteTemplate', (t) =>
  t.id({
    description: 'Owner or admin; returns the id. A second delete is NOT_FOUND.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => deleteTemplate(id, ctx.caller),
  }),
);

builder.mutationField('forkTemplate', (t) =>
  t.prismaField({
    type: Template,
    description: 'A private copy owned by the caller at version 1, with `parent` set.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string() },
    resolve: async (query, _root, { id, name }, ctx) => {
      const template = await forkTemplate(id, name, ctx.caller);
      return db().template.findUniqueOrThrow({ ...query, where: { id: template.id } });
    },
  }),
);

builder.mutationField('renderTemplate', (t) =>
  t.field({
    type: RenderedTemplate,
    description:
      'Substitutes `{{name}}` placeholders and counts one use. Missing variables are BAD_USER_INPUT; extra ones are ignored.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }), variables: t.arg({ type: 'JSON', required: true }) },
    resolve: (_root, { id, variables }, ctx) => renderTemplate(id, variables, ctx.caller),
  }),
);

builder.mutationField('rateTemplate', (t) =>
  t.prismaField({
    type: Template,
    description:
      'One rating per user (rating again replaces it); not on your own template (FORBIDDEN).',
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      stars: t.arg.int({ required: true }),
      review: t.arg.string(),
    },
    resolve: async (query, _root, { id, stars, review }, ctx) => {
      const templateId = await rateTemplate(id, stars, review, ctx.caller);
      return db().template.findUniqueOrThrow({ ...query, where: { id: templateId } });
    },
  }),
);

builder.mutationField('setTemplateFlags', (t) =>
  t.prismaField({
    type: Template,
    description: 'ADMIN only: marks a template official and/or featured (not a new version).',
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true }),
      isOfficial: t.arg.boolean(),
      isFeatured: t.arg.boolean(),
    },
    resolve: async (query, _root, { id, ...flags }) => {
      const templateId = await setTemplateFlags(id, flags);
      return db().template.findUniqueOrThrow({ ...query, where: { id: templateId } });
    },
  }),
);
