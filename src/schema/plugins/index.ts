// Plugins: types, then their queries and mutations.
import './types.js';
import './mutations.js';
