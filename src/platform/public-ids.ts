// The id a client knows a row by where no GraphQL runs: webhook bodies, and the JSON a task's
// result or a coverage history entry stores for later reading. It is the schema's Relay
// global id (base64 of `Type:uuid`, src/schema/ids.ts), so clients can pass it back to the
// API; written here without Pothos because workers write these ids.

/** `base64("<typename>:<rowId>")`, as the schema's global ids. */
export const publicId = (typename: string, rowId: string) =>
  Buffer.from(`${typename}:${rowId}`).toString('base64');
