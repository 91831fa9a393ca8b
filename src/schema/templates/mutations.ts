// Creating, changing, using and rating templates.
import { builder, type Context } from '../builder.js';
import { db } from '../../platform/db.js';
import { rateTemplate } from '../../services/templates/ratings.js';
import {
  renderTemplate,
  type RenderedTemplate as RenderedTemplateShape,
} from '../../services/templates/render.js';
import {
  createTemplate,
  deleteTemplate,
  forkTemplate,
  setTemplateFlags,
  updateTemplate,
} from '../../services/templates/templates.js';
import { rowIdOrNone } from '../ids.js';
import { Template, TemplateCategory } from './template.js';

const RenderedTemplate = builder.objectRef<RenderedTemplateShape>('RenderedTemplate').implement({
  fields: (t) => ({
    content: t.exposeString('content'),
    version: t.exposeInt('version', { description: 'The version rendered.' }),
    template: t.prismaField({
      type: Template,
      description: 'The template, its usageCount including this render.',
      resolve: (query, rendered) =>
        db().template.findUniqueOrThrow({ ...query, where: { id: rendered.templateId } }),
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

/** Where a new version's webhook goes out from (template.version_created). */
const webhookDeps = (ctx: Context) => ({
  pubsub: ctx.pubsub,
  webhooks: ctx.webhooks,
  metrics: ctx.metrics.queue,
});

builder.mutationField('createTemplate', (t) =>
  t.prismaField({
    type: Template,
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateTemplateInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const template = await createTemplate(input, ctx.caller, webhookDeps(ctx));
      return db().template.findUniqueOrThrow({ ...query, where: { id: template.id } });
    },
  }),
);

builder.mutationField('updateTemplate', (t) =>
  t.prismaField({
    type: Template,
    description:
      'Write in its team (FORBIDDEN to others who see it); records a new version with the ' +
      'changelog. An input that changes nothing is BAD_USER_INPUT.',
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateTemplateInput, required: true }),
      expectedVersion: t.arg.int({
        description:
          'The version this change was made against: when the template has moved on, ' +
          'CONFLICT with extensions.currentVersion. Omitted: the last writer wins (still a ' +
          'new version).',
      }),
    },
    resolve: async (query, _root, { id, input, expectedVersion }, ctx) => {
      const template = await updateTemplate(
        rowIdOrNone('Template', id),
        input,
        ctx.caller,
        expectedVersion,
        webhookDeps(ctx),
      );
      // The row as this update left it (a later update may already have committed): its
      // columns from the update, its relations as the selection asks.
      const selected = await db().template.findUniqueOrThrow({
        ...query,
        where: { id: template.id },
      });
      return { ...selected, ...template };
    },
  }),
);

builder.mutationField('deleteTemplate', (t) =>
  t.id({
    description:
      'Write in its team (FORBIDDEN to others who see it); returns the id. A second delete is NOT_FOUND.',
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteTemplate(rowIdOrNone('Template', id), ctx.caller);
      return id;
    },
  }),
);

builder.mutationField('forkTemplate', (t) =>
  t.prismaField({
    type: Template,
    description:
      "A private copy in the caller's team at version 1, with `parent` and `parentVersion` set.",
    authScopes: { write: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string() },
    resolve: async (query, _root, { id, name }, ctx) => {
      const template = await forkTemplate(
        rowIdOrNone('Template', id),
        name,
        ctx.caller,
        webhookDeps(ctx),
      );
      return db().template.findUniqueOrThrow({ ...query, where: { id: template.id } });
    },
  }),
);

builder.mutationField('renderTemplate', (t) =>
  t.field({
    type: RenderedTemplate,
    description:
      'Substitutes `{{name}}` placeholders and counts one use. Missing variables are ' +
      'BAD_USER_INPUT; extra ones are ignored.',
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      variables: t.arg({ type: 'JSON', required: true }),
      version: t.arg.int({
        description: 'A recorded version to render (NOT_FOUND when none); default the current.',
      }),
    },
    resolve: (_root, { id, variables, version }, ctx) =>
      renderTemplate(rowIdOrNone('Template', id), variables, ctx.caller, version),
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
      const templateId = await rateTemplate(rowIdOrNone('Template', id), stars, review, ctx.caller);
      return db().template.findUniqueOrThrow({ ...query, where: { id: templateId } });
    },
  }),
);

builder.mutationField('setTemplateFlags', (t) =>
  t.prismaField({
    type: Template,
    description:
      'The operator only (FORBIDDEN otherwise): marks a template official and/or featured (not a new version).',
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true }),
      isOfficial: t.arg.boolean(),
      isFeatured: t.arg.boolean(),
    },
    resolve: async (query, _root, { id, ...flags }, ctx) => {
      const templateId = await setTemplateFlags(rowIdOrNone('Template', id), flags, ctx.caller);
      return db().template.findUniqueOrThrow({ ...query, where: { id: templateId } });
    },
  }),
);
