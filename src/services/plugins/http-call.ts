// One outbound request of a plugin (a TOOL's call, testPlugin's sample event), bounded: an
// answer within 10 s and at most 256 KB, else an error naming which bound (the body is never
// relayed then). Outside production a request may go to a local stand-in instead of the
// origin it names (PluginNetwork.originOverrides), after its host was checked against the
// grants; in production every connection is to a public address (request-filtering-agent).
import http from 'node:http';
import https from 'node:https';
import { useAgent } from 'request-filtering-agent';

export const REPLY_MAX_BYTES = 256 * 1024;
export const CALL_TIMEOUT_MS = 10_000;

export interface PluginNetwork {
  /** Development and tests: http and private, loopback and link-local addresses allowed. */
  allowPrivateTargets: boolean;
  /** Outside production only: `https://api.example.com` → `http://127.0.0.1:4010`. */
  pluginOriginOverrides?: Readonly<Record<string, string>>;
  /** WEBHOOK_TIMEOUT_MS: a call's bound is the lesser of it and CALL_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface PluginReply {
  status: number;
  body: Buffer;
  contentType: string | null;
  /** Retry-After in seconds, when the answer carried one. */
  retryAfterSeconds: number | null;
  latencyMs: number;
}

/** Why a call got no usable answer. */
export type CallFailure = 'TIMEOUT' | 'REPLY_TOO_LARGE' | 'UNREACHABLE' | 'REFUSED';

export class PluginCallError extends Error {
  override name = 'PluginCallError';

  constructor(
    readonly reason: CallFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Where the request connects: the URL itself, or the stand-in its origin is overridden to. */
export function connectUrl(url: URL, network: PluginNetwork): URL {
  const override = network.allowPrivateTargets
    ? network.pluginOriginOverrides?.[url.origin]
    : undefined;
  if (!override) return url;
  return new URL(`${url.pathname}${url.search}`, override);
}

/** RFC 9110 §10.2.3: seconds, or an HTTP date. */
/**
 * The most a Retry-After is reported as: GraphQL's Int holds no more (about 68 years). A
 * service's later date, or larger number, says "not soon" as well as this does.
 */
const MAX_RETRY_AFTER_SECONDS = 2_147_483_647;

function retryAfterOf(header: string | string[] | undefined): number | null {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return null;
  if (/^\d+$/.test(text.trim())) return Math.min(Number(text.trim()), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, Math.ceil((at - Date.now()) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

export interface PluginRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | null;
}

/** The request's headers as sent: the origin's host when it goes to a stand-in, a JSON body's. */
function headersOf(request: PluginRequest, target: URL): Record<string, string> {
  return {
    ...request.headers,
    ...(target !== request.url && { host: request.url.host }),
    ...(request.body !== null && {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(request.body).toString(),
    }),
    'user-agent': 'agent-growth-plugins/1',
  };
}

export function callPlugin(
  request: PluginRequest,
  network: PluginNetwork,
  signal?: AbortSignal,
  bounds = {
    timeoutMs: Math.min(CALL_TIMEOUT_MS, network.timeoutMs ?? CALL_TIMEOUT_MS),
    maxBytes: REPLY_MAX_BYTES,
  },
): Promise<PluginReply> {
  const target = connectUrl(request.url, network);
  const transport = target.protocol === 'https:' ? https : http;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    let outgoing: http.ClientRequest | undefined;
    const fail = (error: PluginCallError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing?.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new PluginCallError('TIMEOUT', `no complete answer within ${bounds.timeoutMs / 1000} s`),
        ),
      bounds.timeoutMs,
    );
    // Node checks the method and headers as the request is made, and throws (a rendered header
    // value with a character HTTP does not allow): the call fails, naming the header only.
    try {
      outgoing = transport.request(
        target,
        {
          method: request.method,
          headers: headersOf(request, target),
          agent: network.allowPrivateTargets ? undefined : useAgent(target.toString()),
          signal,
        },
        (response) => {
          const declared = Number(response.headers['content-length']);
          if (declared > bounds.maxBytes)
            return fail(
              new PluginCallError(
                'REPLY_TOO_LARGE',
                `the answer is larger than ${bounds.maxBytes / 1024} KB`,
              ),
            );
          const chunks: Buffer[] = [];
          let bytes = 0;
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > bounds.maxBytes)
              fail(
                new PluginCallError(
                  'REPLY_TOO_LARGE',
                  `the answer is larger than ${bounds.maxBytes / 1024} KB`,
                ),
              );
            else chunks.push(chunk);
          });
          response.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks),
              contentType: response.headers['content-type'] ?? null,
              retryAfterSeconds: retryAfterOf(response.headers['retry-after']),
              latencyMs: Math.round(performance.now() - started),
            });
          });
          response.on('error', (error) => fail(new PluginCallError('UNREACHABLE', error.message)));
        },
      );
    } catch (error) {
      return fail(
        new PluginCallError(
          'REFUSED',
          `the request could not be made: ${(error as Error).message}`,
        ),
      );
    }
    outgoing.on('error', (error) => {
      const refused =
        /is not allowed|private|Forbidden/i.test(error.message) && !network.allowPrivateTargets;
      fail(
        new PluginCallError(
          refused ? 'REFUSED' : signal?.aborted ? 'TIMEOUT' : 'UNREACHABLE',
          refused ? `refused: ${error.message}` : error.message,
        ),
      );
    });
    outgoing.end(request.body ?? undefined);
  });
}
