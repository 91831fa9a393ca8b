// Topics: each part registers its types and fields.
import './topic.js';
import './artifact.js';
import './plan.js';
import './generation.js';
