// A field whose resolver records a change when it is read (Agent.coverage appends a history
// entry): a live query may not select it, or it would run itself again and again
// (src/http/live-query/rules.ts).
export const WRITES_WHEN_READ = 'writesWhenRead';

/** The field's `extensions`. */
export const writesWhenRead = { [WRITES_WHEN_READ]: true };
