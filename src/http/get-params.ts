// A GET's `variables` and `extensions` are JSON in the URL. yoga parses them with a bare
// JSON.parse, so a malformed one surfaced as an internal error; here it is the caller's
// (HTTP 400, BAD_USER_INPUT), before yoga's parser runs. graphql-sse's GET (sse/params.ts)
// checks the same.
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from '../platform/errors.js';
import { graphQLErrorOf } from '../schema/errors.js';

export const getParamsCheck = (): Plugin => ({
  onRequestParse({ request, url, setRequestParser }) {
    if (request.method !== 'GET') return;
    for (const name of ['variables', 'extensions']) {
      const value = url.searchParams.get(name);
      if (value === null) continue;
      try {
        JSON.parse(value);
      } catch {
        setRequestParser(() => {
          throw graphQLErrorOf(badUserInput(`${name}: not valid JSON`), {
            extensions: { http: { status: 400 } },
          });
        });
        return;
      }
    }
  },
});
