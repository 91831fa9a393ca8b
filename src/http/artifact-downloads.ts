// GET /artifacts/<artifact id>/<format>: a report file for the members of its topic's team,
// with the API key as for GraphQL (Bearer or X-API-Key). Anyone else — another team, no key —
// gets 404, so an artifact's existence does not leak.
import { callerOf, type ContextOptions } from './context.js';
import { findArtifactFileForCaller } from '../services/topics/artifacts.js';
import { parseGlobalId } from '../schema/ids.js';

export const ARTIFACT_ROUTE = /^\/artifacts\/([^/]+)\/([^/]+)\/?$/;

/** RFC 6266 / RFC 8187: an ASCII `filename` fallback and the real (Korean) name in `filename*`. */
export function contentDisposition(filename: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1] ?? 'bin';
  const ascii =
    /^[\x20-\x7e]+$/.test(filename) && !/["\\]/.test(filename) ? filename : `report.${extension}`;
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** `ResponseClass`: the server's fetch API (yoga's), so the adapter takes the response as its own. */
export async function serveArtifactDownload(
  request: Request,
  url: URL,
  options: Pick<ContextOptions, 'apiKeys'>,
  ResponseClass: typeof Response = Response,
): Promise<Response> {
  const notFound = () =>
    new ResponseClass(
      JSON.stringify({
        errors: [{ message: 'Artifact not found', extensions: { code: 'NOT_FOUND' } }],
      }),
      {
        status: 404,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      },
    );
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new ResponseClass(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  const match = ARTIFACT_ROUTE.exec(url.pathname);
  if (!match) return notFound();
  let artifactId: string | undefined;
  let format: string;
  try {
    artifactId = parseGlobalId('Artifact', decodeURIComponent(match[1]!));
    format = decodeURIComponent(match[2]!);
  } catch {
    return notFound();
  }
  const caller = await callerOf(request, options);
  const file =
    caller && artifactId ? await findArtifactFileForCaller(artifactId, format, caller) : undefined;
  if (!file) return notFound();
  return new ResponseClass(request.method === 'HEAD' ? null : file.data, {
    status: 200,
    headers: {
      'content-type': file.contentType,
      'content-length': String(file.bytes),
      'content-disposition': contentDisposition(file.filename),
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
