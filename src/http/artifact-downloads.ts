// GET (or HEAD) /artifacts/<artifact id>/<format>: a report file, two ways.
// - A signed link (ArtifactFile.url: ?expires=…&keyId=…&signature=…) opens without a key, in a
//   browser, until it expires or the key that asked for it is revoked; anything wrong with it
//   is 403 with an empty body, so a refusal says nothing about what was wrong.
// - With an API key, as for GraphQL (Bearer or X-API-Key), for the members of the topic's
//   team; anyone else (another team, no key) gets 404, so an artifact's existence does not leak.
import contentDisposition from 'content-disposition';
import { callerOf, type ContextOptions } from './context.js';
import { findArtifactFileForCaller } from '../services/topics/artifacts.js';
import { asciiFallbackName } from '../services/topics/download-names.js';
import {
  findArtifactFileForSignedLink,
  SIGNED_LINK_PARAMS,
  type DownloadGrant,
} from '../services/topics/download-links.js';
import { parseGlobalId } from '../schema/ids.js';

export const ARTIFACT_ROUTE = /^\/artifacts\/([^/]+)\/([^/]+)\/?$/;

type DownloadOptions = Pick<ContextOptions, 'apiKeys' | 'downloadLinks'>;

interface FoundFile {
  contentType: string;
  filename: string;
  bytes: number;
  data: Uint8Array<ArrayBuffer>;
}

/** The artifact's row id and the format in the path; undefined for a path of no artifact. */
function pathOf(url: URL): { artifactId: string; format: string } | undefined {
  const match = ARTIFACT_ROUTE.exec(url.pathname);
  if (!match) return undefined;
  try {
    const artifactId = parseGlobalId('Artifact', decodeURIComponent(match[1]!));
    return artifactId ? { artifactId, format: decodeURIComponent(match[2]!) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The signed link's grant and signature: undefined when the request carries no part of one (the
 * API-key way), null when it carries a link that can only be refused.
 */
function signedLinkOf(
  url: URL,
  path: { artifactId: string; format: string } | undefined,
): { grant: DownloadGrant; signature: string } | null | undefined {
  const params = url.searchParams;
  const [expires, keyId, signature] = [
    params.get(SIGNED_LINK_PARAMS.expires),
    params.get(SIGNED_LINK_PARAMS.keyId),
    params.get(SIGNED_LINK_PARAMS.signature),
  ];
  if (expires === null && keyId === null && signature === null) return undefined;
  // Some but not all, or not of the shapes written: a link that can only be refused.
  if (!path || !expires || !/^\d{1,12}$/.test(expires) || !keyId || !signature) return null;
  return { grant: { ...path, expires: Number(expires), keyId }, signature };
}

/** `ResponseClass`: the server's fetch API (yoga's), so the adapter takes the response as its own. */
export async function serveArtifactDownload(
  request: Request,
  url: URL,
  options: DownloadOptions,
  ResponseClass: typeof Response = Response,
  /** For a request without a valid key: a refusal (429) when its address's bucket is empty. */
  admitWithoutKey: () => Promise<Response | undefined> = async () => undefined,
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new ResponseClass(null, {
      status: 405,
      headers: { allow: 'GET, HEAD', ...PRIVATE_HEADERS },
    });
  }
  const path = pathOf(url);
  const link = signedLinkOf(url, path);
  if (link !== undefined) {
    const refused = await admitWithoutKey();
    if (refused) return refused;
    const file =
      link && (await findArtifactFileForSignedLink(options.downloadLinks, options.apiKeys, link));
    return file ? fileResponse(request, file, ResponseClass) : forbidden(ResponseClass);
  }
  const caller = path && (await callerOf(request, options));
  if (!caller) {
    const refused = await admitWithoutKey();
    if (refused) return refused;
  }
  const file = caller && (await findArtifactFileForCaller(path.artifactId, path.format, caller));
  return file ? fileResponse(request, file, ResponseClass) : notFound(ResponseClass);
}

function fileResponse(request: Request, file: FoundFile, ResponseClass: typeof Response) {
  return new ResponseClass(request.method === 'HEAD' ? null : file.data, {
    status: 200,
    headers: {
      'content-type': file.contentType,
      'content-length': String(file.bytes),
      // RFC 6266 / RFC 8187: an ASCII `filename` and the real (Korean) name in `filename*`.
      'content-disposition': contentDisposition(file.filename, {
        fallback: asciiFallbackName(file.filename),
      }),
      ...PRIVATE_HEADERS,
    },
  });
}

/** A download is the caller's alone: no shared cache keeps it, no referrer carries its link. */
const PRIVATE_HEADERS = {
  'cache-control': 'private, no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const forbidden = (ResponseClass: typeof Response) =>
  new ResponseClass(null, { status: 403, headers: PRIVATE_HEADERS });

const notFound = (ResponseClass: typeof Response) =>
  new ResponseClass(
    JSON.stringify({
      errors: [{ message: 'Artifact not found', extensions: { code: 'NOT_FOUND' } }],
    }),
    {
      status: 404,
      // Not kept by any cache either: the file may be there for the next key that asks.
      headers: { 'content-type': 'application/json; charset=utf-8', ...PRIVATE_HEADERS },
    },
  );
