// Where the service may send a request of a caller's choosing (a webhook, an LLM deployment's
// base URL): outside development only https to public addresses, checked on the resolved
// addresses when the URL is set, and again at connect time (publicOnlyFetch, or
// request-filtering-agent for webhooks) so DNS rebinding fails too.
import { lookup as lookupAll } from 'node:dns/promises';
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { BadInputError } from './errors.js';

/** Is this resolved address public (unicast: not private, loopback, link-local, …)? */
export function isPublicTarget(address: string): boolean {
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * The URL to store, or BAD_USER_INPUT naming `argument` and saying why it is refused: http(s),
 * no credentials, no fragment, and unless private targets are allowed https to public addresses only.
 */
export async function checkOutboundUrl(
  raw: string,
  settings: { allowPrivateTargets: boolean },
  argument = 'webhookUrl',
): Promise<string> {
  // The field's own name in the message and details; its place in the request in `argument`.
  const field = argument.replace(/^.*\./, '');
  const refuse = (problem: string) => new BadInputError(`${field} ${problem}`, { field }, argument);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be http(s)');
  if (url.username || url.password) throw refuse('must not carry credentials');
  // A fragment is never sent in a request (RFC 9110, section 4.2.4): kept, it would say the
  // request goes somewhere it does not.
  if (url.hash || raw.includes('#')) throw refuse('must not carry a fragment (#…)');
  if (settings.allowPrivateTargets) return url.toString();
  if (url.protocol !== 'https:') throw refuse('must use https');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(host)
    ? [host]
    : await lookupAll(host, { all: true }).then(
        (all) => all.map((a) => a.address),
        () => [],
      );
  if (addresses.length === 0) throw refuse(`host ${host} does not resolve`);
  const refused = addresses.filter((address) => !isPublicTarget(address));
  if (refused.length) throw refuse(`resolves to a non-public address (${refused.join(', ')})`);
  return url.toString();
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback) {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const allowed = addresses.filter((each) => isPublicTarget(each.address));
    if (allowed.length === 0)
      return callback(
        Object.assign(new Error(`${hostname} resolves to a non-public address`), {
          code: 'EACCES',
        }),
        [],
      );
    if (options.all) return callback(null, allowed);
    callback(null, allowed[0]!.address, allowed[0]!.family);
  });
}

/** The fetch production deployments use: no connection to a private, loopback or link-local address. */
export function publicOnlyFetch(): typeof fetch {
  const dispatcher = new Agent({ connect: { lookup: publicOnlyLookup as never } });
  return ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An address literal is never looked up: checked here.
    if (ipaddr.isValid(host) && !isPublicTarget(host))
      return Promise.reject(new Error(`${host} is not a public address`));
    return undiciFetch(input as never, { ...(init as object), dispatcher } as never);
  }) as unknown as typeof fetch;
}
