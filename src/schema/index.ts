// Imports every domain for its side effects, then builds the schema.
import { builder } from '../builder.js';
import './api-keys.js';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema({ sortSchema: true });
