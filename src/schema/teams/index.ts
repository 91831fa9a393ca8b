// Teams: each part registers its types and fields.
import './team.js';
import './mutations.js';
