// The request target, before yoga reads it: yoga's adapter builds a URL from `req.url` and
// answers an absolute-form target (`GET http://host/health`, which RFC 9112 §3.2.2 says a
// server must accept) or one that is no URL at all with a 500 and its stack trace. Here an
// absolute-form target is rewritten to its origin form, and anything else that is not origin
// form (`*`, garbage) gets 400.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** The origin form of the target (`/path?query`), or undefined when it has none. */
export function originForm(target: string): string | undefined {
  if (target.startsWith('/')) return target;
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return undefined;
  }
}

export function withOriginFormTarget(listener: RequestListener): RequestListener {
  return (request: IncomingMessage, response: ServerResponse) => {
    const target = originForm(request.url ?? '');
    if (target === undefined) {
      response
        .writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' })
        .end('{"errors":[{"message":"Bad request target","extensions":{"code":"BAD_REQUEST"}}]}');
      return;
    }
    request.url = target;
    listener(request, response);
  };
}
