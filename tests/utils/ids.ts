// The row id inside one of the API's global ids (base64 of `Type:uuid`), for tests that read
// or change rows behind what the API answered. src/schema/ids.ts parses them for the service.

/** The row id behind a global id, whatever its type. */
export const rowId = (globalId: string): string =>
  Buffer.from(globalId, 'base64').toString().split(':')[1]!;
