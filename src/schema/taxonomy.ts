import { builder } from './builder.js';
import { db } from '../platform/db.js';
import {
  deleteDocuments,
  ingestDocuments,
  MAX_DOCUMENTS_PER_CALL,
} from '../services/taxonomy/documents.js';
import { createTaxonomy } from '../services/taxonomy/taxonomy.js';
import { findVisibleTaxonomy } from '../services/taxonomy/lookup.js';
import { taxonomyNodeVisibleTo, taxonomyVisibleTo } from '../services/auth/visibility.js';
import { rowIdWhere } from '../platform/ids.js';
import { noRow } from './no-row.js';
import { namingGlobalIds, parseGlobalIds } from './ids.js';

export const Taxonomy = builder.prismaNode('Taxonomy', {
  id: { field: 'id' },
  // node(id) sees what taxonomy(version) sees: another team's taxonomy is null.
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [taxonomyVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    version: t.exposeString('version'),
    name: t.exposeString('name'),
    nodes: t.relation('nodes', {
      query: { orderBy: { position: 'asc' } },
      description: 'Every node, parents before children.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const TaxonomyNode = builder.prismaNode('TaxonomyNode', {
  id: { field: 'id' },
  // node(id): as its taxonomy (a node reached through a visible agent is shown with the agent).
  nullable: true,
  findUnique: (id, ctx) => ({ ...rowIdWhere(id), AND: [taxonomyNodeVisibleTo(ctx.caller)] }),
  fields: (t) => ({
    key: t.exposeString('key'),
    label: t.exposeString('label'),
    path: t.exposeStringList('path', { description: 'Labels from the root down to this node.' }),
    depth: t.exposeInt('depth'),
    parent: t.relation('parent', { nullable: true }),
  }),
});

const TaxonomyNodeInput = builder.inputType('TaxonomyNodeInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    label: t.string({ required: true }),
    parentKey: t.string(),
  }),
});

const CreateTaxonomyInput = builder.inputType('CreateTaxonomyInput', {
  fields: (t) => ({
    version: t.string({ required: true }),
    name: t.string({ required: true }),
    nodes: t.field({ type: [TaxonomyNodeInput], required: true }),
  }),
});

const DocumentInput = builder.inputType('DocumentInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    content: t.string({ required: true }),
    taxonomyNodeIds: t.idList({ required: true }),
    source: t.string(),
  }),
});

const IngestPayload = builder
  .objectRef<{ documentIds: string[]; documentCount: number; chunkCount: number }>('IngestPayload')
  .implement({
    fields: (t) => ({
      documentIds: t.exposeIDList('documentIds', {
        description: 'The new documents, in input order (the ids search hits carry as documentId).',
      }),
      documentCount: t.exposeInt('documentCount'),
      chunkCount: t.exposeInt('chunkCount'),
    }),
  });

builder.queryField('taxonomy', (t) =>
  t.prismaField({
    type: Taxonomy,
    nullable: true,
    authScopes: { read: true },
    description:
      "The caller's team's taxonomy of that version, else the default team's, else the oldest one the caller sees.",
    args: { version: t.arg.string({ required: true }) },
    resolve: async (query, _root, { version }, ctx) => {
      const found = await findVisibleTaxonomy(version, ctx.caller);
      return found ? db().taxonomy.findUnique({ ...query, where: { id: found.id } }) : noRow(query);
    },
  }),
);

builder.mutationField('createTaxonomy', (t) =>
  t.prismaField({
    type: Taxonomy,
    authScopes: { write: true },
    args: { input: t.arg({ type: CreateTaxonomyInput, required: true }) },
    description: "Into the caller's team; a version taken there is CONFLICT.",
    resolve: async (query, _root, { input }, ctx) => {
      const created = await createTaxonomy(input, ctx.caller);
      return db().taxonomy.findUniqueOrThrow({ ...query, where: { id: created.id } });
    },
  }),
);

builder.mutationField('ingestDocuments', (t) =>
  t.field({
    type: IngestPayload,
    description:
      'Classify documents into nodes of a taxonomy version, chunk them and index them for search.',
    authScopes: { write: true },
    args: {
      taxonomyVersion: t.arg.string({ required: true }),
      documents: t.arg({ type: [DocumentInput], required: true }),
    },
    resolve: (_root, args, ctx) => {
      const documents = args.documents.map((doc, index) => ({
        ...doc,
        taxonomyNodeIds: parseGlobalIds(
          'TaxonomyNode',
          doc.taxonomyNodeIds,
          `documents[${index}].taxonomyNodeIds`,
        ),
      }));
      // Nodes of another taxonomy (or team) are named as the caller wrote them.
      return namingGlobalIds(
        args.documents.flatMap((doc) => doc.taxonomyNodeIds),
        documents.flatMap((doc) => doc.taxonomyNodeIds),
        () => ingestDocuments(args.taxonomyVersion, documents, ctx.caller),
      );
    },
  }),
);

const DeleteDocumentsPayload = builder
  .objectRef<{ documentCount: number; chunkCount: number }>('DeleteDocumentsPayload')
  .implement({
    fields: (t) => ({
      documentCount: t.exposeInt('documentCount'),
      chunkCount: t.exposeInt('chunkCount'),
    }),
  });

builder.mutationField('deleteDocuments', (t) =>
  t.field({
    type: DeleteDocumentsPayload,
    description:
      `Delete documents (ids from ingestDocuments or a search hit's documentId) with their ` +
      `chunks; search statistics follow in the same transaction. All or nothing: NOT_FOUND ` +
      `when any id is unknown. At most ${MAX_DOCUMENTS_PER_CALL.toLocaleString('en-US')} ids.`,
    authScopes: { write: true },
    args: { ids: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) => deleteDocuments(args.ids.map(String), ctx.caller),
  }),
);
