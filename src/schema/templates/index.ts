// Templates: each part registers its types and fields.
import './template.js';
import './versions.js';
import './mutations.js';
