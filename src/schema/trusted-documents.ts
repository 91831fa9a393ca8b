// Trusted documents (persisted operations): the operator registers the documents a frontend
// was built with, as GraphQL Code Generator's client preset lists them (persistedDocuments:
// a manifest of hash → document); clients then send the hash alone.
import { builder } from './builder.js';
import { invalidTrustedDocument } from './document-check.js';
import {
  MAX_TRUSTED_DOCUMENTS_PER_CALL,
  registerTrustedDocuments,
  type RegisteredDocuments,
} from '../services/trusted-documents/register.js';

const TrustedDocumentInput = builder.inputType('TrustedDocumentInput', {
  description: 'One entry of a persisted-documents manifest.',
  fields: (t) => ({
    hash: t.string({
      required: true,
      description: 'The manifest\'s key: "sha256:<hex>" (the client preset) or the bare hex.',
    }),
    document: t.string({ required: true, description: 'The document, exactly as hashed.' }),
  }),
});

const RegisterTrustedDocumentsPayload = builder
  .objectRef<RegisteredDocuments>('RegisterTrustedDocumentsPayload')
  .implement({
    fields: (t) => ({
      registered: t.exposeInt('registered', { description: 'Documents added by this call.' }),
      alreadyRegistered: t.exposeInt('alreadyRegistered', {
        description: 'Documents that were registered before (left as they were).',
      }),
    }),
  });

builder.mutationField('registerTrustedDocuments', (t) =>
  t.field({
    type: RegisterTrustedDocumentsPayload,
    description:
      `The operator only (FORBIDDEN otherwise): adds documents clients may send by hash alone ` +
      `(and, under TRUSTED_DOCUMENTS_ONLY, the only ones accepted). Each must validate against ` +
      `this schema and its hash be the sha256 of its text (BAD_USER_INPUT otherwise; nothing ` +
      `is registered then). At most ${MAX_TRUSTED_DOCUMENTS_PER_CALL.toLocaleString('en-US')} ` +
      `per call. From a manifest: Object.entries(manifest).map(([hash, document]) => ({ hash, ` +
      `document })).`,
    authScopes: { admin: true },
    args: {
      documents: t.arg({ type: [TrustedDocumentInput], required: true }),
    },
    resolve: async (_root, { documents }, ctx, info) => {
      // Validated for the operator only: anyone else is refused without the work.
      const invalid = ctx.caller.isOperator && invalidTrustedDocument(info.schema, documents);
      if (invalid) throw invalid;
      return registerTrustedDocuments(documents, ctx);
    },
  }),
);
