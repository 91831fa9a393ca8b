// Entry for the topic benchmarks until bench/index.ts wires them: `tsx bench/topics/run.ts [plan|status]`.
const which = process.argv.slice(2);
if (which.length === 0 || which.includes('plan')) await (await import('./plan.js')).benchTopicsPlan();
if (which.length === 0 || which.includes('status')) await (await import('./status.js')).benchTopicsStatus();
process.exit(0);
