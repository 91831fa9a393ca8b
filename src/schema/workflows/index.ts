// Workflows: each part registers its types and fields.
import './types.js';
import './event.js';
import './workflow.js';
import './mutations.js';
