// Imports every domain for its side effects, then builds the schema.
import { builder } from './builder.js';
import { describeInputBounds } from './input-bounds.js';
import './api-keys.js';
import './taxonomy.js';
import './agents.js';
import './coverage.js';
import './search.js';
import './tasks.js';
import './templates.js';
import './topics.js';

builder.queryType({});
builder.mutationType({});

export const schema = describeInputBounds(builder.toSchema({ sortSchema: true }));
