// Webhook endpoints and deliveries: types, then their queries and mutations.
import './types.js';
import './mutations.js';
