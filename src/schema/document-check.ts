// Trusted documents must run: each is parsed and validated against this schema before it is
// registered (by the operator's mutation or the manifest loaded at start).
import { GraphQLError, parse, validate, type GraphQLSchema } from 'graphql';
import { BadInputError } from '../platform/errors.js';
import type { TrustedDocumentEntry } from '../services/trusted-documents/register.js';

/** BAD_USER_INPUT naming the first document that does not parse or validate, if one does not. */
export function invalidTrustedDocument(
  schema: GraphQLSchema,
  entries: readonly TrustedDocumentEntry[],
): BadInputError | undefined {
  for (const [index, { hash, document }] of entries.entries()) {
    let errors: readonly GraphQLError[];
    try {
      errors = validate(schema, parse(document));
    } catch (error) {
      errors = [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
    }
    if (errors.length)
      return new BadInputError(
        `documents[${index}].document: not valid for this schema: ${errors[0]!.message}`,
        { hash, errors: errors.slice(0, 10).map((error) => error.message) },
        'documents',
      );
  }
  return undefined;
}
