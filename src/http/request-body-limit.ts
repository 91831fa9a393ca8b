// The request body limit, in place of yoga's `maxRequestBodySize` (turned off in app.ts).
// The checks are yoga's: Content-Length must be one non-negative integer no larger than the
// limit, and a body without one (chunked) is counted as it streams. The difference: a body
// with a valid Content-Length is not piped through a counting stream (node:http's parser
// never delivers more than Content-Length bytes), which cost a large share of a small
// request's time (bench/README.md). By hand because yoga does not export its plugin's parts.
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from '../platform/errors.js';
import { graphQLErrorOf } from '../schema/errors.js';

/** yoga's default. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 25_000_000;

const CONTENT_LENGTH = /^\d+$/;

const TOO_LARGE = { status: 413, message: 'Request body too large' } as const;

/** What a Content-Length header says: absent, acceptable, or a refusal. */
function checkContentLength(
  request: Request,
  limit: number,
): 'absent' | 'ok' | { status: 400 | 413; message: string } {
  const contentLength = request.headers.get('content-length');
  if (contentLength == null) return 'absent';
  if (!CONTENT_LENGTH.test(contentLength))
    return { status: 400, message: 'Content-Length header is invalid' };
  return Number(contentLength) > limit ? TOO_LARGE : 'ok';
}

const refusal = ({ status, message }: { status: number; message: string }) =>
  graphQLErrorOf(badUserInput(message), { extensions: { http: { status } } });

/** Counts a streamed body's bytes and fails the stream past `limit`. */
function limitedRequest(
  request: Request,
  limit: number,
  fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream },
): Request {
  let bytesRead = 0;
  // A native body needs the native TransformStream; the ponyfill's body needs the ponyfill's (as in yoga).
  const Transform =
    request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytesRead += chunk.byteLength;
        if (bytesRead > limit) controller.error(refusal(TOO_LARGE));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body,
    duplex: 'half',
  } as RequestInit);
}

/**
 * The body as text for handlers that read bodies themselves (graphql-sse), with the same
 * limit: a Content-Length is checked first, a body without one is counted while it is read.
 */
export async function readBodyText(
  request: Request,
  limit: number,
): Promise<{ text: string } | { status: 400 | 413; message: string }> {
  const checked = checkContentLength(request, limit);
  if (checked === 'ok') return { text: await request.text() };
  if (checked !== 'absent') return checked;
  if (!request.body) return { text: '' };
  const reader = request.body.getReader();
  const decoder = new TextDecoder();
  let bytesRead = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode() };
    bytesRead += value.byteLength;
    if (bytesRead > limit) {
      await reader.cancel();
      return TOO_LARGE;
    }
    text += decoder.decode(value, { stream: true });
  }
}

export function requestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const checked = checkContentLength(request, limit);
      if (checked === 'ok') return; // the HTTP parser stops at Content-Length
      if (checked !== 'absent') throw refusal(checked);
      if (requestParser == null || request.body == null) return;
      const parse = requestParser;
      setRequestParser((req) => parse(limitedRequest(req, limit, fetchAPI)));
    },
  };
}
