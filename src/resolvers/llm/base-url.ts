// A deployment's base URL, checked as webhook URLs are (issue 29): http(s) without
// credentials (userinfo, or a query parameter named like one) or a fragment; in production
// https to a public address, checked when it is set and again at every connect (the resolved
// address, so DNS rebinding fails too) by the fetch the SDKs are given here: undici's, with a
// lookup that refuses non-public addresses.
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { BadInputError } from '../../platform/errors.js';
import { checkOutboundUrl, isPublicTarget } from '../tasks/webhooks.js';

// A query parameter named like a credential (`?api_key=`, `?sig=`, `?client_secret=`): shown
// to every member with the deployment. Others stay (Azure OpenAI's `?api-version=`).
const CREDENTIAL_PARAMETER =
  /^(?:key|api[-_]?key|x-api-key|access[-_]token|token|secret|password|passwd|pass|pwd|auth|authorization|sig|signature|code|credentials?)$|[-_](?:key|token|secret)$/;

const refuse = (problem: string) =>
  new BadInputError(`baseUrl ${problem}`, { field: 'baseUrl' }, 'baseUrl');

/** The URL to store: http(s), no credentials (userinfo, query), no fragment; see above. */
export async function checkBaseUrl(raw: string, allowPrivate: boolean): Promise<string> {
  const checked = await checkOutboundUrl(raw, { allowPrivateTargets: allowPrivate }, 'baseUrl');
  const url = new URL(checked);
  // Neither the name nor the value is repeated back: either may be the secret.
  if ([...url.searchParams.keys()].some((name) => CREDENTIAL_PARAMETER.test(name.toLowerCase())))
    throw refuse(
      'must not carry credentials (a query parameter named like a key, token or secret)',
    );
  if (url.href.includes('#')) throw refuse('must not have a fragment (#…)');
  return checked;
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
