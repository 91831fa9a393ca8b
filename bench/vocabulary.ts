// The small vocabularies the generator builds its English-like corpus from. Words are
// listed from most to least frequent: the generator draws with a power-law skew, so the
// first ones land in most chunks and the last ones in few (realistic selectivities).
export const WORDS = [
  // function words (stop words: full-text search drops them, readers expect them)
  'the', 'of', 'and', 'to', 'in', 'a', 'is', 'for', 'that', 'with', 'on', 'as', 'by', 'from', 'are', 'this', 'which', 'at', 'be', 'it',
  // common content words
  'data', 'system', 'model', 'market', 'process', 'team', 'report', 'risk', 'growth', 'policy',
  'service', 'customer', 'network', 'design', 'research', 'analysis', 'quality', 'value', 'cost', 'time',
  'product', 'support', 'training', 'security', 'energy', 'health', 'learning', 'management', 'performance', 'strategy',
  'software', 'platform', 'results', 'study', 'teams', 'users', 'changes', 'levels', 'rates', 'sources',
  // mid-frequency
  'revenue', 'pricing', 'inventory', 'supply', 'chain', 'logistics', 'compliance', 'audit', 'regulation', 'contract',
  'database', 'index', 'query', 'latency', 'throughput', 'cluster', 'replica', 'backup', 'migration', 'schema',
  'neural', 'gradient', 'embedding', 'transformer', 'classifier', 'benchmark', 'dataset', 'inference', 'accuracy', 'feature',
  'patient', 'clinical', 'treatment', 'diagnosis', 'vaccine', 'therapy', 'hospital', 'nutrition', 'disease', 'symptom',
  'climate', 'carbon', 'emissions', 'solar', 'battery', 'grid', 'turbine', 'hydrogen', 'recycling', 'forest',
  'interest', 'inflation', 'currency', 'equity', 'bond', 'portfolio', 'dividend', 'liquidity', 'credit', 'mortgage',
  'curriculum', 'student', 'teacher', 'assessment', 'literacy', 'classroom', 'university', 'scholarship', 'exam', 'tutor',
  // rarer words
  'photosynthesis', 'semiconductor', 'lithography', 'actuary', 'arbitrage', 'cryptography', 'genome', 'telescope', 'volcano', 'glacier',
  'orchestra', 'manuscript', 'archaeology', 'cartography', 'meteorology', 'entomology', 'ornithology', 'philately', 'numismatics', 'topology',
];

/** Appended to about 1 % of the chunks: terms that match a few hundred chunks of a million. */
export const RARE_WORDS = [
  'quasar', 'zeolite', 'mycelium', 'isotope', 'fjord', 'tundra', 'obsidian', 'basalt', 'plankton', 'krill',
  'saffron', 'cardamom', 'vanadium', 'tungsten', 'graphene', 'perovskite', 'qubit', 'entanglement', 'neutrino', 'boson',
  'sonnet', 'fresco', 'tapestry', 'mosaic', 'harpsichord', 'oboe', 'marimba', 'sitar', 'calligraphy', 'origami',
  'abacus', 'astrolabe', 'sextant', 'theodolite', 'gyroscope', 'barometer', 'anemometer', 'hygrometer', 'seismograph', 'periscope',
  'axolotl', 'pangolin', 'okapi', 'narwhal', 'quokka', 'tapir', 'gharial', 'kakapo', 'aye-aye', 'dugong',
];

export const ROOT_LABELS = ['Science', 'Engineering', 'Finance', 'Health', 'Law', 'Education', 'Energy', 'Climate', 'Computing', 'Culture'];

export const TOPIC_WORDS = [
  'foundations', 'methods', 'markets', 'systems', 'policy', 'operations', 'research', 'practice', 'history', 'tools',
  'standards', 'safety', 'economics', 'design', 'analytics', 'governance', 'education', 'infrastructure', 'ethics', 'trends',
];

/** Agent names: "Agent 123456 research ops". */
export const AGENT_AREAS = [
  'research', 'sales', 'legal', 'finance', 'support', 'marketing', 'security', 'data', 'product', 'clinical',
  'energy', 'climate', 'education', 'hr', 'procurement', 'logistics', 'compliance', 'risk', 'design', 'platform',
];
export const AGENT_TEAMS = ['ops', 'insights', 'assistant', 'analyst', 'review', 'triage', 'planner', 'scout', 'writer', 'auditor'];

/** WORDS' function words (the generator mixes them in; the analysis drops them) and content words (the vocabulary's first ranks). */
export const STOP_WORDS = WORDS.slice(0, 20);
export const CONTENT_WORDS = WORDS.slice(20);
/** The made-up words past CONTENT_WORDS: a Zipf rank written in base 30, four syllables (bench/generate.ts, query-classes.ts). */
export const SYLLABLES = ['ka', 'ro', 'mi', 'te', 'lu', 'sa', 'no', 'pe', 'di', 'go', 'fa', 'ze', 'bo', 'ri', 'tu', 'ma', 'ke', 'li', 'vo', 'ha', 'ne', 'ju', 'pa', 'si', 'do', 'we', 'ya', 'ku', 'be', 'ra'];
