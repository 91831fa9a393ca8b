// GraphiQL's page is about 9 MB: render-graphiql inlines GraphiQL and its plugins, so the page
// needs nothing from a CDN. To a browser that takes gzip (every one) it goes compressed, and
// with an ETag, so a reload is answered 304 without the page. Each distinct page is compressed
// once: a process serves at most two (with the key pre-filled for this machine, and without).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

interface Page {
  etag: string;
  gzip: Buffer;
}

/** Pages kept compressed, at most (more only if the options change at run time). */
const MAX_PAGES = 4;

const takesGzip = (request: Request) =>
  /(^|[\s,])gzip(\s*;\s*q=(0?\.\d*[1-9]|1(\.0*)?))?\s*(,|$)/i.test(
    request.headers.get('accept-encoding') ?? '',
  );

export function graphiqlDelivery(): Plugin {
  const pages = new Map<string, Page>();
  const prepared = (html: string): Page => {
    let page = pages.get(html);
    if (!page) {
      if (pages.size >= MAX_PAGES) pages.clear();
      const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 32)}"`;
      pages.set(html, (page = { etag, gzip: gzipSync(html) }));
    }
    return page;
  };
  return {
    async onResponse({ request, response, setResponse, fetchAPI }) {
      const { Response, Headers } = fetchAPI;
      if (request.method !== 'GET' || response.status !== 200) return;
      if (!response.headers.get('content-type')?.startsWith('text/html')) return;
      const html = await response.text();
      const page = prepared(html);
      const headers = new Headers(response.headers);
      // The page may hold this machine's key: cached by the browser only, checked every time.
      headers.set('cache-control', 'private, no-cache');
      headers.set('etag', page.etag);
      headers.set('vary', 'accept-encoding');
      if (request.headers.get('if-none-match') === page.etag)
        return setResponse(new Response(null, { status: 304, headers }));
      if (!takesGzip(request)) return setResponse(new Response(html, { status: 200, headers }));
      headers.set('content-encoding', 'gzip');
      headers.set('content-length', String(page.gzip.length));
      setResponse(new Response(page.gzip as unknown as BodyInit, { status: 200, headers }));
    },
  };
}
