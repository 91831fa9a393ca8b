// Template versions: every version a template has had, the diff between two,
// and where a fork stands against its parent. Pins are arguments of renderTemplate
// (mutations.ts) and planTopic (topics/plan.ts).
import { builder } from '../builder.js';
import { readableTeamIds } from '../../services/auth/permissions.js';
import { isTemplateVisibleTo } from '../../services/auth/visibility.js';
import {
  diffTemplateVersions,
  type TemplateDiff as TemplateDiffShape,
} from '../../services/templates/diff.js';
import { templateVersionAt, templateVersionsPage } from '../../services/templates/version-pages.js';
import type { TemplateVersionRow } from '../../services/templates/versions.js';
import { rowIdOrNone } from '../ids.js';
import { Template } from './template.js';

const TemplateVersion = builder.objectRef<TemplateVersionRow>('TemplateVersion').implement({
  description: 'A version of a template as it was made; never changed afterwards.',
  fields: (t) => ({
    version: t.exposeInt('version'),
    content: t.exposeString('content'),
    promptSystem: t.exposeString('promptSystem', { nullable: true }),
    variables: t.exposeStringList('variables'),
    changelog: t.exposeString('changelog', { nullable: true }),
    createdBy: t.exposeString('createdBy', {
      nullable: true,
      description: 'The name of the user who made it; null once that user is gone.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const TemplateVersionConnection = builder.connectionObject(
  {
    type: TemplateVersion,
    name: 'TemplateVersionConnection',
    fields: (t) => ({
      totalCount: t.int({
        resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount,
      }),
    }),
  },
  { name: 'TemplateVersionEdge' },
);

builder.prismaObjectFields(Template, (t) => ({
  versions: t.field({
    type: TemplateVersionConnection,
    description:
      "Every recorded version, newest first; outside the template's team, those recorded " +
      'while it was public. Templates made before versions were kept start at the version ' +
      'they had then.',
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (template, args, ctx) =>
      templateVersionsPage(ctx, template, args, readableTeamIds(ctx.caller)) as never,
  }),
  versionAt: t.field({
    type: TemplateVersion,
    nullable: true,
    description:
      'One recorded version; null when there is none of that number (or, outside the ' +
      "template's team, it was recorded while the template was private).",
    args: { version: t.arg.int({ required: true }) },
    resolve: (template, { version }, ctx) =>
      templateVersionAt(ctx, template.id, version, readableTeamIds(ctx.caller)),
  }),
  parentVersion: t.exposeInt('parentVersion', {
    nullable: true,
    description:
      "The parent's version when this template was forked; null when it is no fork (or a fork older than versions).",
  }),
  upstreamVersion: t.int({
    nullable: true,
    description:
      "The parent's current version when it is newer than parentVersion: the parent moved on " +
      'since the fork. Null otherwise, and when the parent is gone or not visible to the ' +
      'caller. Nothing is merged automatically.',
    select: { parentVersion: true, parent: true },
    resolve: ({ parent, parentVersion }, _args, ctx) => {
      if (!parent || parentVersion == null || !isTemplateVisibleTo(parent, ctx.caller)) return null;
      return parent.version > parentVersion ? parent.version : null;
    },
  }),
}));

const TemplateDiff = builder.objectRef<TemplateDiffShape>('TemplateDiff').implement({
  fields: (t) => ({
    unified: t.exposeString('unified', {
      description:
        'A unified diff: the content as a file named `content`, then `promptSystem` as a ' +
        'second file when the guide changed.',
    }),
    variablesAdded: t.exposeStringList('variablesAdded'),
    variablesRemoved: t.exposeStringList('variablesRemoved'),
    changelog: t.exposeStringList('changelog', {
      description:
        'The changelogs of the versions after fromVersion up to toVersion, in the order they ' +
        'apply (empty ones left out).',
    }),
  }),
});

builder.queryField('templateDiff', (t) =>
  t.field({
    type: TemplateDiff,
    description:
      'What changed from one recorded version to another. fromVersion greater than toVersion ' +
      'is a reverse diff (how to go back; its changelog lists the versions undone, newest ' +
      'first). NOT_FOUND for a template the caller may not see or a version it never ' +
      'recorded.',
    authScopes: { read: true },
    args: {
      id: t.arg.id({ required: true }),
      fromVersion: t.arg.int({ required: true }),
      toVersion: t.arg.int({ required: true }),
    },
    resolve: (_root, { id, fromVersion, toVersion }, ctx) =>
      diffTemplateVersions(rowIdOrNone('Template', id), fromVersion, toVersion, ctx.caller),
  }),
);
